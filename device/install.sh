#!/usr/bin/env bash
# Installs the kiosk on a Raspberry Pi (run as root from a built checkout: dist/ present).
# Idempotent: running it again gives the same result, and it never overwrites an existing
# /etc/kiosk/config.json or key. See docs/operations.md, "First install on a Pi".
#
#   sudo device/install.sh --mode systemd|pm2 [--key FILE] [--cert FILE] [--dry-run]
#
#   --mode systemd   run the daemon as systemd's kiosk.service (default)
#   --mode pm2       run it under pm2, which systemd starts as kiosk-pm2.service (needs: npm i -g pm2)
#   --key FILE       the merchant private key to install as /etc/kiosk/merchant.key.p8 (mode 600)
#   --cert FILE      the platform certificate to install as /etc/kiosk/platform.cert.crt
#   --dry-run        print what would be done, change nothing (no root needed)
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP_DIR=/opt/kiosk
ETC_DIR=/etc/kiosk
STATE_DIR=/var/lib/kiosk
UNIT_DIR=/etc/systemd/system
UDEV_DIR=/etc/udev/rules.d
USER_NAME=kiosk

MODE=systemd
KEY=''
CERT=''
DRY_RUN=0

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --mode=*) MODE="${1#--mode=}"; shift ;;
    --key) KEY="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --cert) CERT="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$MODE" in
  systemd|pm2) ;;
  *) echo "install.sh: --mode must be systemd or pm2, got '$MODE'" >&2; exit 2 ;;
esac

# Every change goes through run: printed always, executed unless --dry-run.
run() {
  echo "+ $*"
  if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}
note() { echo "# $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then die "run as root (sudo), or with --dry-run"; fi
[ -f "$SRC/dist/src/cli/kiosk.js" ] || die "$SRC/dist/src/cli/kiosk.js is missing: run 'npm ci && npm run build' first"
for f in "$KEY" "$CERT"; do
  [ -z "$f" ] || [ -f "$f" ] || die "no such file: $f"
done
[ "$DRY_RUN" -eq 1 ] && note "dry run: nothing is changed"

# --- user and groups -------------------------------------------------------------------------------
# gpio exists on Raspberry Pi OS; elsewhere (a test bench) it is created so the unit's groups resolve.
for g in dialout gpio; do
  getent group "$g" >/dev/null || run groupadd --system "$g"
done
if id "$USER_NAME" >/dev/null 2>&1; then
  note "user $USER_NAME exists"
else
  run useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin --user-group "$USER_NAME"
fi
run usermod --append --groups dialout,gpio "$USER_NAME"

# --- folders ---------------------------------------------------------------------------------------
# The journal folder is the kiosk's alone. /etc/kiosk is root's with group kiosk read-only: the daemon
# reads its config and key but cannot rewrite its own prices or gateway.
run install -d -m 0700 -o "$USER_NAME" -g "$USER_NAME" "$STATE_DIR"
run install -d -m 0750 -o root -g "$USER_NAME" "$ETC_DIR"

# --- the application -------------------------------------------------------------------------------
if [ "$SRC" != "$APP_DIR" ]; then
  run install -d -m 0755 "$APP_DIR"
  if command -v rsync >/dev/null 2>&1; then
    run rsync -a --delete --exclude .git --exclude demo-data --exclude .kiosk-state --exclude node_modules "$SRC/" "$APP_DIR/"
  else
    run find "$APP_DIR" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
    run cp -a "$SRC/." "$APP_DIR/"
    run rm -rf "$APP_DIR/.git" "$APP_DIR/demo-data" "$APP_DIR/.kiosk-state"
  fi
  # Production dependencies only, built for this Pi (better-sqlite3 and serialport have native parts).
  run sh -c "cd '$APP_DIR' && npm ci --omit=dev --no-audit --no-fund"
  run chown -R root:root "$APP_DIR"
fi

# --- keys and config (never overwritten once there) ------------------------------------------------
install_secret() { # src dest mode
  if [ -n "$1" ]; then
    run install -m "$3" -o "$USER_NAME" -g "$USER_NAME" "$1" "$2"
  fi
}
install_secret "$KEY" "$ETC_DIR/merchant.key.p8" 0600
install_secret "$CERT" "$ETC_DIR/platform.cert.crt" 0644
# Whatever key is there, group and others must not read it (the daemon refuses to start otherwise).
for k in "$ETC_DIR"/*.p8 "$ETC_DIR"/*.key "$ETC_DIR"/*.pem; do
  [ -e "$k" ] || continue # an unmatched glob stays literal
  run chown "$USER_NAME:$USER_NAME" "$k"
  run chmod 600 "$k"
done
if [ -e "$ETC_DIR/config.json" ]; then
  note "$ETC_DIR/config.json exists: left as it is"
else
  run install -m 0640 -o root -g "$USER_NAME" "$SRC/device/config.example.json" "$ETC_DIR/config.json"
  note "edit $ETC_DIR/config.json (device/CONFIG.md explains each field), then check it: kiosk doctor"
fi

# --- udev ------------------------------------------------------------------------------------------
run install -m 0644 "$SRC/device/99-kiosk-scanner.rules" "$UDEV_DIR/99-kiosk-scanner.rules"
if command -v udevadm >/dev/null 2>&1; then
  run udevadm control --reload-rules
  run udevadm trigger --subsystem-match=tty
fi

# --- the service -----------------------------------------------------------------------------------
if [ "$MODE" = systemd ]; then
  unit=kiosk.service
  other=kiosk-pm2.service
else
  unit=kiosk-pm2.service
  other=kiosk.service
  command -v pm2 >/dev/null 2>&1 || note "pm2 is not installed: sudo npm install -g pm2 (before starting)"
fi
# Only one of the two may run: both would drive the same scanner and journal.
if [ -e "$UNIT_DIR/$other" ]; then
  run systemctl disable --now "$other"
  run rm -f "$UNIT_DIR/$other"
fi
run install -m 0644 "$SRC/systemd/$unit" "$UNIT_DIR/$unit"
# The technician's `kiosk` command (runs as the kiosk user, so root never owns journal files).
run install -m 0755 "$SRC/device/kiosk.sh" /usr/local/bin/kiosk
run systemctl daemon-reload
run systemctl enable "$unit"
note "start it: sudo systemctl restart ${unit%.service}; check it: kiosk doctor && kiosk status"
