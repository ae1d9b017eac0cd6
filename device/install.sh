#!/usr/bin/env bash
# Installs or updates the kiosk on a Raspberry Pi (run as root from a built checkout: dist/ present).
# docs/operations.md, "First install on a Pi" and "Updating", describes each step.
#
#   sudo device/install.sh [--from BUNDLE] [--mode systemd|pm2] [--key FILE] [--cert FILE] [--replace-key]
#                          [--replace-cert] [--ready-timeout S] [--idle-timeout S] [--require-idle] [--keep N]
#                          [--stage-only] [--mender-verify-key FILE] [--dry-run] [--root DIR]
#   sudo device/install.sh --rollback [--ready-timeout S] [--root DIR]
#
#   --from BUNDLE     install from a release bundle (npm run release) instead of this checkout: its manifest
#                     is checked, then its own install.sh runs with the other options (no git on the kiosk)
#   --mode systemd    run the daemon as systemd's kiosk.service (default)
#   --mode pm2        run it under pm2, which systemd starts as kiosk-pm2.service (needs: npm i -g pm2)
#   --key FILE        the merchant private key, installed as /etc/kiosk/merchant.key.p8 when none is there
#   --cert FILE       the platform certificate, installed as /etc/kiosk/platform.cert.crt when none is there
#   --replace-key     replace a different existing key (the old one is kept as a dated 0600 backup)
#   --replace-cert    the same for the certificate
#   --ready-timeout S after restarting a running kiosk on the new release: roll back when it has not
#                     answered ready within S seconds (default 60)
#   --idle-timeout S  wait up to S seconds for a customer to finish before the restart (default 120)
#   --require-idle    a customer still busy after --idle-timeout: switch nothing, exit 1 (default: restart
#                     anyway; the daemon's graceful stop drains the payment in flight)
#   --stage-only      install the release and check it can run, but do not switch to it (Mender's
#                     ArtifactInstall); running install.sh from the staged release later switches
#   --mender-verify-key FILE  the operator's public key: Mender installs only artifacts signed by it
#                     (/etc/mender/mender.conf ArtifactVerifyKey); also installs the kiosk-release module
#   --keep N          releases kept in /opt/kiosk/releases, current and previous included (default 3)
#   --rollback        switch back to the previous release (and restart a running kiosk)
#   --dry-run         print what would be done, change nothing (no root needed)
#   --root DIR        install everything under DIR instead of /; user, group, ownership, systemctl, udevadm
#                     and npm are recorded in DIR/.install/calls, not run (DIR/.install/shims/NAME, when
#                     executable, is run in their place: tests fake systemctl and npm there)
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The paths as the kiosk sees them (written into units and the kiosk command) ...
APP=/opt/kiosk
ETC=/etc/kiosk
STATE=/var/lib/kiosk
UNITS=/etc/systemd/system
UDEV=/etc/udev/rules.d
BIN=/usr/local/bin
MENDER_ETC=/etc/mender
MENDER_MODULES=/usr/share/mender/modules/v3
MENDER_DATA=/var/lib/mender
USER_NAME=kiosk

MODE=''
KEY=''
CERT=''
REPLACE_KEY=0
REPLACE_CERT=0
READY_TIMEOUT=60
KEEP=3
ROLLBACK=0
DRY_RUN=0
ROOT=''
FROM=''
STAGE_ONLY=0
IDLE_TIMEOUT=120
REQUIRE_IDLE=0
MENDER_KEY=''
ARGS=("$@")

usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; }
need() { [ -n "${2:-}" ] || { echo "install.sh: $1 needs a value" >&2; exit 2; }; }

while [ $# -gt 0 ]; do
  case "$1" in
    --mode) need "$1" "${2:-}"; MODE="$2"; shift 2 ;;
    --mode=*) MODE="${1#--mode=}"; shift ;;
    --key) need "$1" "${2:-}"; KEY="$2"; shift 2 ;;
    --cert) need "$1" "${2:-}"; CERT="$2"; shift 2 ;;
    --replace-key) REPLACE_KEY=1; shift ;;
    --replace-cert) REPLACE_CERT=1; shift ;;
    --ready-timeout) need "$1" "${2:-}"; READY_TIMEOUT="$2"; shift 2 ;;
    --keep) need "$1" "${2:-}"; KEEP="$2"; shift 2 ;;
    --rollback) ROLLBACK=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --root) need "$1" "${2:-}"; ROOT="$2"; shift 2 ;;
    --from) need "$1" "${2:-}"; FROM="$2"; shift 2 ;;
    --stage-only) STAGE_ONLY=1; shift ;;
    --idle-timeout) need "$1" "${2:-}"; IDLE_TIMEOUT="$2"; shift 2 ;;
    --require-idle) REQUIRE_IDLE=1; shift ;;
    --mender-verify-key) need "$1" "${2:-}"; MENDER_KEY="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$MODE" in
  systemd|pm2|'') ;;
  *) echo "install.sh: --mode must be systemd or pm2, got '$MODE'" >&2; exit 2 ;;
esac
[[ "$IDLE_TIMEOUT" =~ ^[0-9]+$ ]] || { echo "install.sh: --idle-timeout must be whole seconds, got '$IDLE_TIMEOUT'" >&2; exit 2; }
[ "$ROLLBACK" -eq 0 ] || { [ -z "$FROM" ] && [ "$STAGE_ONLY" -eq 0 ]; } || { echo "install.sh: --rollback takes no --from or --stage-only" >&2; exit 2; }
[[ "$READY_TIMEOUT" =~ ^[0-9]+$ ]] || { echo "install.sh: --ready-timeout must be whole seconds, got '$READY_TIMEOUT'" >&2; exit 2; }
[[ "$KEEP" =~ ^[0-9]+$ ]] && [ "$KEEP" -ge 2 ] || { echo "install.sh: --keep must be 2 or more (current and previous), got '$KEEP'" >&2; exit 2; }

note() { echo "# $*"; }
warn() { echo "# WARNING: $*"; WARNINGS=$((WARNINGS + 1)); }
die() { echo "install.sh: $*" >&2; exit 1; }
WARNINGS=0

# --- a release bundle: checked, unpacked, and its own install.sh run with the other options ---------------
if [ -n "$FROM" ]; then
  [ -f "$FROM" ] || die "--from $FROM: no such file"
  # Read whole (no `| head`: under pipefail a writer cut off by SIGPIPE would end this script).
  listing="$(tar -tvzf "$FROM" 2>&1)" || die "--from $FROM: not a gzip'd tar file ($(tail -n 1 <<<"$listing"))"
  names="$(tar -tzf "$FROM")"
  # Only plain files and folders, all under one top folder, no way out of it.
  tops="$(sed 's|/.*||' <<<"$names" | LC_ALL=C sort -u)"
  [ "$(wc -l <<<"$tops")" -eq 1 ] || die "--from $FROM: a bundle holds one release folder; this one has at its top: $(tr '\n' ' ' <<<"$tops")"
  top="$tops"
  [ -n "$top" ] && [ "$top" != . ] && [ "$top" != .. ] && grep -qx "$top/" <<<"$names" || die "--from $FROM: no release folder inside"
  bad="$(grep -E '(^|/)\.\.(/|$)' <<<"$names" | sed -n 1p || true)"
  [ -z "$bad" ] || die "--from $FROM: '$bad' climbs out of the bundle"
  bad="$(grep -v -E '^[-d]' <<<"$listing" | sed -n 1p || true)"
  [ -z "$bad" ] || die "--from $FROM: only files and folders may be in a bundle, not: $bad"
  unpacked="$(mktemp -d "${TMPDIR:-/tmp}/kiosk-bundle.XXXXXX")"
  trap 'rm -rf "$unpacked"' EXIT
  tar -xzf "$FROM" -C "$unpacked" --no-same-owner || die "--from $FROM: cannot unpack it"
  b="$unpacked/$top"
  [ -f "$b/MANIFEST.sha256" ] || die "--from $FROM: no MANIFEST.sha256 in $top/: not a bundle from npm run release"
  (cd "$b" && sha256sum --check --strict --quiet MANIFEST.sha256 >"$unpacked/check.log" 2>&1) ||
    die "--from $FROM: the manifest does not match: $(grep -v ': OK$' "$unpacked/check.log" | sed -n 1,3p | tr '\n' ' ')"
  extra="$(cd "$b" && comm -23 <(find . -type f ! -name MANIFEST.sha256 | LC_ALL=C sort) <(sed 's/^[0-9a-f]*  //' MANIFEST.sha256 | LC_ALL=C sort) | sed -n 1p)"
  [ -z "$extra" ] || die "--from $FROM: $extra is not in the manifest"
  [ -f "$b/device/install.sh" ] || die "--from $FROM: no device/install.sh in $top/"
  note "bundle $top: manifest checked ($(wc -l <"$b/MANIFEST.sha256") files)"
  rest=()
  skip=0
  for a in "${ARGS[@]}"; do
    if [ "$skip" -eq 1 ]; then skip=0; continue; fi
    if [ "$a" = --from ]; then skip=1; continue; fi
    rest+=("$a")
  done
  set +e
  bash "$b/device/install.sh" "${rest[@]}"
  status=$?
  exit "$status"
fi

if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT" || die "--root $ROOT: cannot create it"
  ROOT="$(cd "$ROOT" && pwd)"
  [ "$ROOT" != / ] || die "--root / is the real system: leave --root out"
  mkdir -p "$ROOT/.install"
fi
# ... and where this run writes them.
R() { echo "$ROOT$1"; }

# Every change to files goes through run: printed always, executed unless --dry-run.
run() {
  echo "+ $*"
  if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}
# Changes outside the files (users, ownership, services, udev, npm): under --root recorded (and run by a
# shim when the test provides one), never run on the real system.
sys() {
  echo "+ $*"
  [ "$DRY_RUN" -eq 0 ] || return 0
  if [ -n "$ROOT" ]; then
    printf '%s\n' "$*" >>"$ROOT/.install/calls"
    if [ -x "$ROOT/.install/shims/$1" ]; then "$ROOT/.install/shims/$1" "${@:2}"; fi
    return 0
  fi
  "$@"
}
# A question to the system (is the service active? does the user exist?): under --root only a shim answers.
ask() {
  if [ -n "$ROOT" ]; then
    [ -x "$ROOT/.install/shims/$1" ] && "$ROOT/.install/shims/$1" "${@:2}"
    return
  fi
  "$@"
}

if [ "$DRY_RUN" -eq 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then die "run as root (sudo), or with --dry-run"; fi
[ "$DRY_RUN" -eq 1 ] && note "dry run: nothing is changed"
[ -n "$ROOT" ] && note "installing under $ROOT (system calls recorded in $ROOT/.install/calls)"

# An update keeps the mode of the install (the unit that is there) unless --mode says otherwise.
if [ -z "$MODE" ]; then
  if [ -e "$(R $UNITS/kiosk-pm2.service)" ] && [ ! -e "$(R $UNITS/kiosk.service)" ]; then MODE=pm2; else MODE=systemd; fi
fi
NODE="$(command -v node || true)"
[ -n "$NODE" ] || die "node is not on PATH: install Node.js 20 first (docs/operations.md, step 3)"
if [ "$MODE" = systemd ]; then UNIT=kiosk.service; OTHER=kiosk-pm2.service; else UNIT=kiosk-pm2.service; OTHER=kiosk.service; fi
kiosk_js() { echo "$(R $APP)/$1/dist/src/cli/kiosk.js"; }
CONFIG_FILE="$(R $ETC/config.json)"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- releases: current, previous, switching -------------------------------------------------------------
link_target() { # the release folder name a link points at, or nothing
  local l; l="$(R $APP/$1)"
  [ -L "$l" ] && basename "$(readlink "$l")" || true
}
# Points $APP/NAME at releases/ID: a new link renamed over the old one (rename is atomic; the service
# never sees a missing or half-written link).
set_link() { # name id
  local l; l="$(R $APP/$1)"
  run ln -sfn "releases/$2" "$l.new"
  run mv -T "$l.new" "$l"
}
active() { ask systemctl is-active --quiet "$UNIT"; }

# Ready = a daemon of this release answers on its control socket (kiosk version --wait-ready).
wait_ready() { # id
  [ "$DRY_RUN" -eq 0 ] || return 0
  echo "+ kiosk version --wait-ready $READY_TIMEOUT   # release $1"
  "$NODE" "$(kiosk_js "releases/$1")" version --wait-ready "$READY_TIMEOUT" --config "$CONFIG_FILE"
}
# A customer in the middle of choosing or paying finishes first (bounded); the daemon's graceful stop
# then lets a payment step in flight write its journal entry before it exits.
wait_idle() {
  [ "$DRY_RUN" -eq 0 ] || return 0
  local cur; cur="$(link_target current)"
  [ -n "$cur" ] && [ -f "$(kiosk_js "releases/$cur")" ] || return 0
  "$NODE" "$(kiosk_js "releases/$cur")" version --wait-idle "$IDLE_TIMEOUT" --config "$CONFIG_FILE" && return 0
  [ "$REQUIRE_IDLE" -eq 0 ] || die "a customer is still busy after $IDLE_TIMEOUT s (--require-idle): nothing switched, $cur still runs; try again later"
  note "a customer is still busy after $IDLE_TIMEOUT s: restarting anyway (the daemon drains the payment in progress)"
}
# A release can open this journal (native modules load, schema not newer): kiosk version --check.
release_ok() { # id
  [ "$DRY_RUN" -eq 0 ] || return 0
  "$NODE" "$(kiosk_js "releases/$1")" version --check --config "$CONFIG_FILE" >"$(R $APP)/.check.log" 2>&1 && return 0
  sed 's/^/#   /' "$(R $APP)/.check.log"
  return 1
}

# Switch to release $1 with $2 as previous; restart and wait for ready when the kiosk runs.
# Returns 1 when the restarted kiosk did not come up ready.
switch_to() { # new previous was_active
  set_link current "$1"
  [ -z "$2" ] || set_link previous "$2"
  if [ "$3" -eq 1 ]; then
    sys systemctl restart "$UNIT"
    wait_ready "$1" || return 1
  fi
  return 0
}

rollback() { # [restart: 1 when the kiosk ran before a failed update]; non-zero when the rollback fails too
  local cur prev was="${1:-0}"
  cur="$(link_target current)"; prev="$(link_target previous)"
  [ -n "$prev" ] && [ -d "$(R $APP/releases/$prev)" ] || die "no previous release to roll back to (kiosk version lists what is kept)"
  if ! release_ok "$prev"; then
    die "cannot roll back to $prev: it cannot run here (above). If its journal schema is older, the newer release migrated the journal: stay on $cur, or restore the journal backup taken before the update by hand (orders paid since would be lost from it)"
  fi
  [ "$was" -eq 1 ] || ! active || was=1
  note "rolling back: $cur -> $prev"
  if [ "$was" -eq 1 ] && active; then wait_idle; fi
  switch_to "$prev" "$cur" "$was"
}

if [ "$ROLLBACK" -eq 1 ]; then
  if rollback; then
    note "rolled back to $(link_target current); kiosk version shows both"
    exit 0
  fi
  die "the kiosk did not answer ready on $(link_target current) within $READY_TIMEOUT s after the rollback: journalctl -u kiosk (or kiosk logs) says why"
fi

# --- preflight: refuse before changing anything ---------------------------------------------------------
[ -f "$SRC/dist/src/cli/kiosk.js" ] || die "$SRC/dist/src/cli/kiosk.js is missing: run 'npm ci && npm run build' first"
for f in "$KEY" "$CERT"; do
  [ -z "$f" ] || [ -f "$f" ] || die "no such file: $f"
done
# An existing key or certificate is never replaced by accident: an old key file from shell history would
# undo a key rotation without a word.
check_secret() { # src dest replace what option
  [ -n "$1" ] && [ -e "$(R $2)" ] || return 0
  cmp -s "$1" "$(R $2)" && return 0
  [ "$3" -eq 1 ] && return 0
  die "$2 already holds a different $4: refusing to replace it with $1. Keep the installed one (leave out the option), or replace it on purpose with $5 (the old one is kept as a dated backup)"
}
check_secret "$KEY" "$ETC/merchant.key.p8" "$REPLACE_KEY" 'merchant key' --replace-key
check_secret "$CERT" "$ETC/platform.cert.crt" "$REPLACE_CERT" 'platform certificate' --replace-cert
if [ -n "$MENDER_KEY" ]; then
  [ -f "$MENDER_KEY" ] || die "--mender-verify-key $MENDER_KEY: no such file"
  openssl pkey -pubin -in "$MENDER_KEY" -noout 2>/dev/null ||
    die "--mender-verify-key $MENDER_KEY: not a public key (PEM). Give the public half of the signing key (openssl pkey -in KEY -pubout); the private key stays with the operator"
fi

# /etc/kiosk/scanner.env: the scanner's ids, the technician's file; the udev rule is generated from it.
scanner_value() { # file name → value (last assignment wins), quotes and spaces removed
  sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | tail -n 1 | tr -d "\"' \t\r"
}
scanner_env_check() { # file: every value in its form, or say which line is wrong
  local f="$1" n=0 line key
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line="${line%%#*}"
    [[ "$line" =~ ^[[:space:]]*$ ]] && continue
    [[ "$line" =~ ^[[:space:]]*([A-Z_]+)[[:space:]]*= ]] || die "$f:$n: expected NAME=value, got: $line"
    key="${BASH_REMATCH[1]}"
    case "$key" in SCANNER_USB_VENDOR|SCANNER_USB_PRODUCT|SCANNER_USB_SERIAL|SCANNER_UART) ;;
      *) die "$f:$n: unknown setting $key (SCANNER_USB_VENDOR, SCANNER_USB_PRODUCT, SCANNER_USB_SERIAL, SCANNER_UART)" ;;
    esac
  done <"$f"
  local v p s u
  v="$(scanner_value "$f" SCANNER_USB_VENDOR)"; p="$(scanner_value "$f" SCANNER_USB_PRODUCT)"
  s="$(scanner_value "$f" SCANNER_USB_SERIAL)"; u="$(scanner_value "$f" SCANNER_UART)"
  if [ -n "$u" ]; then
    [[ "$u" =~ ^tty[A-Za-z0-9]+$ ]] || die "$f: SCANNER_UART must be a kernel tty name such as ttyAMA0, got '$u'"
  else
    [[ "$v" =~ ^[0-9a-fA-F]{4}$ ]] || die "$f: SCANNER_USB_VENDOR must be 4 hex digits (udevadm info -a -n /dev/ttyUSB0 | grep idVendor), got '$v'"
    [[ "$p" =~ ^[0-9a-fA-F]{4}$ ]] || die "$f: SCANNER_USB_PRODUCT must be 4 hex digits, got '$p'"
    [[ "$s" =~ ^[A-Za-z0-9._-]*$ ]] || die "$f: SCANNER_USB_SERIAL may hold letters, digits, . _ - only, got '$s'"
  fi
}
[ ! -e "$(R $ETC/scanner.env)" ] || scanner_env_check "$(R $ETC/scanner.env)"

# The release id: the package version and a hash of what is installed, so re-running the same build is
# the same release (nothing to do) and any change is a new one.
mapfile -t RELEASE_FILES < <(grep -v '^[[:space:]]*\(#\|$\)' "$SRC/device/release-files")
VERSION="$("$NODE" -p "require('$SRC/package.json').version")"
present=()
for f in "${RELEASE_FILES[@]}"; do [ ! -e "$SRC/$f" ] || present+=("$f"); done
HASH="$(cd "$SRC" && find "${present[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-10)"
ID="$VERSION-$HASH"
COMMIT="$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || true)"
# A bundle has no git: npm run release wrote its commit into bundle.json.
[ -n "$COMMIT" ] || [ ! -f "$SRC/bundle.json" ] || COMMIT="$("$NODE" -p "String(require('$SRC/bundle.json').commit ?? '')" 2>/dev/null || true)"

# --- user and groups -------------------------------------------------------------------------------------
# gpio exists on Raspberry Pi OS; elsewhere (a test bench) it is created so the unit's groups resolve.
for g in dialout gpio; do
  ask getent group "$g" >/dev/null || sys groupadd --system "$g"
done
if ask id "$USER_NAME" >/dev/null 2>&1; then
  note "user $USER_NAME exists"
else
  sys useradd --system --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin --user-group "$USER_NAME"
fi
sys usermod --append --groups dialout,gpio "$USER_NAME"

# --- folders ---------------------------------------------------------------------------------------------
# The journal folder is the kiosk's alone. /etc/kiosk is root's with group kiosk read-only: the daemon
# reads its config and key but cannot rewrite its own prices, gateway or trust anchor.
run install -d -m 0700 "$(R $STATE)"
sys chown "$USER_NAME:$USER_NAME" "$STATE"
run install -d -m 0750 "$(R $ETC)"
sys chown "root:$USER_NAME" "$ETC"
run install -d -m 0755 "$(R $APP)" "$(R $APP/releases)"

# A file installed with an owner: the bytes and the mode here, the owner through sys (root only).
put() { # src dest mode owner:group
  run install -m "$3" "$1" "$(R $2)"
  sys chown "$4" "$2"
}

# --- keys and config (never replaced by accident) --------------------------------------------------------
# The key must be readable by the daemon's user and by nobody else (the daemon refuses a key group or
# others can read), so it is kiosk's, 0400. The certificate is the trust anchor: root's, group kiosk
# may read it, the daemon cannot replace it.
install_secret() { # src dest mode owner what
  [ -n "$1" ] || return 0
  if [ ! -e "$(R $2)" ]; then
    put "$1" "$2" "$3" "$4"
    note "installed $5 $2; delete your copy ($1) once the kiosk works"
  elif cmp -s "$1" "$(R $2)"; then
    note "$2 already holds this $5: left as it is"
  else
    local backup
    backup="$2.$(date +%Y%m%d-%H%M%S).bak"
    run cp -p "$(R $2)" "$(R $backup)"
    run chmod 0600 "$(R $backup)"
    sys chown root:root "$backup"
    put "$1" "$2" "$3" "$4"
    note "replaced $5 $2 (--replace); the old one is kept as $backup (0600, root)"
  fi
}
install_secret "$KEY" "$ETC/merchant.key.p8" 0400 "$USER_NAME:$USER_NAME" 'merchant key'
install_secret "$CERT" "$ETC/platform.cert.crt" 0640 "root:$USER_NAME" 'platform certificate'
# A certificate a previous install made kiosk's own (0644 kiosk:kiosk) becomes root's.
if [ -z "$CERT" ] && [ -e "$(R $ETC/platform.cert.crt)" ]; then
  run chmod 0640 "$(R $ETC/platform.cert.crt)"
  sys chown "root:$USER_NAME" "$ETC/platform.cert.crt"
fi
if [ -e "$(R $ETC/config.json)" ]; then
  note "$ETC/config.json exists: left as it is"
else
  put "$SRC/device/config.example.json" "$ETC/config.json" 0640 "root:$USER_NAME"
  note "edit $ETC/config.json (device/CONFIG.md explains each field), then check it: kiosk doctor"
fi
if [ -e "$(R $ETC/scanner.env)" ]; then
  note "$ETC/scanner.env exists: left as it is (the udev rule is generated from it)"
else
  # An existing rule's ids (a technician edited them before scanner.env existed) are carried over.
  seed="$SRC/device/scanner.env.example"
  old_rule="$(R $UDEV/99-kiosk-scanner.rules)"
  if [ -f "$old_rule" ] && [ "$DRY_RUN" -eq 0 ]; then
    active_line="$(grep -v '^[[:space:]]*#' "$old_rule" | grep -m1 'kiosk-scanner' || true)"
    v="$(sed -n 's/.*ATTRS{idVendor}=="\([0-9a-fA-F]\{4\}\)".*/\1/p' <<<"$active_line")"
    p="$(sed -n 's/.*ATTRS{idProduct}=="\([0-9a-fA-F]\{4\}\)".*/\1/p' <<<"$active_line")"
    s="$(sed -n 's/.*ATTRS{serial}=="\([A-Za-z0-9._-]*\)".*/\1/p' <<<"$active_line")"
    u="$(sed -n 's/.*KERNEL=="\(tty[A-Za-z0-9]*\)".*/\1/p' <<<"$active_line")"
    seed="$(R $APP)/.scanner.env.seed"
    sed -e "s/^SCANNER_USB_VENDOR=.*/SCANNER_USB_VENDOR=${v:-1a86}/" -e "s/^SCANNER_USB_PRODUCT=.*/SCANNER_USB_PRODUCT=${p:-7523}/" \
      -e "s/^SCANNER_USB_SERIAL=.*/SCANNER_USB_SERIAL=$s/" -e "s/^SCANNER_UART=.*/SCANNER_UART=$u/" \
      "$SRC/device/scanner.env.example" >"$seed"
    note "$ETC/scanner.env: the scanner ids carried over from $UDEV/99-kiosk-scanner.rules"
  fi
  put "$seed" "$ETC/scanner.env" 0644 root:root
  note "set the scanner's ids in $ETC/scanner.env, then run this again (it regenerates the udev rule)"
fi

# --- the release -----------------------------------------------------------------------------------------
CUR="$(link_target current)"
REL="$(R $APP/releases/$ID)"
if [ -f "$REL/release.json" ]; then
  note "release $ID is installed already"
else
  STAGE="$(R $APP/releases/.staging-$ID)"
  [ ! -e "$STAGE" ] || run rm -rf "$STAGE" # left by an interrupted run
  run install -d -m 0755 "$STAGE"
  run mkdir -p "$STAGE/dist"
  run cp -a "$SRC/dist/src" "$STAGE/dist/src"
  for f in "${RELEASE_FILES[@]:1}"; do
    [ ! -e "$SRC/$f" ] || run cp -a "$SRC/$f" "$STAGE/$f"
  done
  # Production dependencies, built for this Pi (better-sqlite3 and serialport have native parts). The same
  # lock file as the current release: its node_modules, hard-linked (an update then takes seconds, not the
  # minutes npm ci takes on a Pi); nothing ever writes into a release's node_modules afterwards.
  if [ -n "$CUR" ] && [ -d "$(R $APP/releases/$CUR)/node_modules" ] && cmp -s "$SRC/package-lock.json" "$(R $APP/releases/$CUR)/package-lock.json"; then
    run cp -al "$(R $APP/releases/$CUR)/node_modules" "$STAGE/node_modules"
  else
    sys npm ci --prefix "$STAGE" --omit=dev --no-audit --no-fund
  fi
  if [ "$DRY_RUN" -eq 0 ]; then
    printf '{"id":"%s","version":"%s","commit":"%s","installedAt":"%s","source":"%s"}\n' "$ID" "$VERSION" "$COMMIT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SRC" >"$STAGE/release.json"
  fi
  # Verified in place before anything points at it: the native modules load, the journal is not newer.
  if [ "$DRY_RUN" -eq 0 ] && ! "$NODE" "$STAGE/dist/src/cli/kiosk.js" version --check --config "$CONFIG_FILE" >"$(R $APP)/.check.log" 2>&1; then
    sed 's/^/#   /' "$(R $APP)/.check.log"
    die "release $ID does not run here (above); the installed release is unchanged. Left in $STAGE for a look"
  fi
  run mv -T "$STAGE" "$REL"
  sys chown -R root:root "$APP/releases/$ID"
fi
if [ "$STAGE_ONLY" -eq 1 ]; then
  # Checked in place (kiosk version --check above); nothing points at it yet. Its own install.sh switches.
  note "release $ID is staged in $APP/releases/$ID; switch to it with: $APP/releases/$ID/device/install.sh"
  echo "staged: $ID"
  exit 0
fi

# --- files under /etc and the kiosk command: a file changed here by a person is never overwritten -----------
# The manifest records what this script installed last; the shipped list knows what older versions did.
MANIFEST="$(R $APP/installed.sha256)"
[ -e "$MANIFEST" ] || [ "$DRY_RUN" -eq 1 ] || : >"$MANIFEST"
CHANGED=()
recorded() { [ -e "$MANIFEST" ] && grep -Fqx "$1  $2" "$MANIFEST"; }
shipped() { grep -Fqx "$1  $2" "$SRC/device/shipped.sha256"; }
record() { # dest sha
  [ "$DRY_RUN" -eq 0 ] || return 0
  { awk -v d="$1" '$2 != d' "$MANIFEST"; echo "$2  $1"; } >"$MANIFEST.new"
  mv -f "$MANIFEST.new" "$MANIFEST"
}
install_managed() { # generated-file dest mode → sets CHANGED when installed or updated
  local new cur
  new="$(sha "$1")"
  if [ ! -e "$(R $2)" ]; then
    run install -m "$3" "$1" "$(R $2)"
    record "$2" "$new"
    CHANGED+=("$2")
    return
  fi
  cur="$(sha "$(R $2)")"
  if [ "$cur" = "$new" ]; then
    record "$2" "$new"
  elif recorded "$cur" "$2" || shipped "$cur" "$2"; then
    run install -m "$3" "$1" "$(R $2)"
    record "$2" "$new"
    CHANGED+=("$2")
    note "updated $2"
  else
    run install -m "$3" "$1" "$(R $2).kiosk-new"
    warn "$2 was changed on this kiosk: kept as it is. This release's version is $2.kiosk-new: compare (diff $2 $2.kiosk-new), then move it over yours or delete it"
  fi
}
GEN="$(R $APP)/.generated"
run install -d -m 0700 "$GEN"

# The udev rule, from scanner.env (the technician's) and the rule template.
if [ "$DRY_RUN" -eq 0 ]; then
  envf="$(R $ETC/scanner.env)"
  v="$(scanner_value "$envf" SCANNER_USB_VENDOR)"; p="$(scanner_value "$envf" SCANNER_USB_PRODUCT)"
  s="$(scanner_value "$envf" SCANNER_USB_SERIAL)"; u="$(scanner_value "$envf" SCANNER_UART)"
  serial=''; [ -z "$s" ] || serial=", ATTRS{serial}==\"$s\""
  if [ -n "$u" ]; then usb='#'; uart=''; else usb=''; uart='#'; fi
  sed -e "s|@USB@|$usb|" -e "s|@UART@|$uart|" -e "s|@VENDOR@|${v,,}|" -e "s|@PRODUCT@|${p,,}|" -e "s|@SERIAL@|$serial|" \
    -e "s|@UART_KERNEL@|${u:-ttyAMA0}|" "$SRC/device/99-kiosk-scanner.rules" >"$GEN/99-kiosk-scanner.rules"
  # The unit and the kiosk command name node by its full path (systemd and cron have a minimal PATH).
  sed -e "s|/usr/bin/node |$NODE |" "$SRC/systemd/$UNIT" >"$GEN/$UNIT"
  RUNUSER="$(command -v runuser || echo /usr/sbin/runuser)"
  sed -e "s|@NODE@|$NODE|g" -e "s|@RUNUSER@|$RUNUSER|g" "$SRC/device/kiosk.sh" >"$GEN/kiosk"
fi

# A missing /etc/udev/rules.d (no udev here, or a minimal image) is created, never fatal; so are the others.
run install -d -m 0755 "$(R $UDEV)" "$(R $UNITS)" "$(R $BIN)"
RULE_CHANGED=0
n_before=${#CHANGED[@]}
if [ "$DRY_RUN" -eq 0 ]; then install_managed "$GEN/99-kiosk-scanner.rules" "$UDEV/99-kiosk-scanner.rules" 0644
else echo "+ install -m 0644 (generated from $ETC/scanner.env) $UDEV/99-kiosk-scanner.rules"; fi
[ ${#CHANGED[@]} -eq "$n_before" ] || RULE_CHANGED=1
if [ "$RULE_CHANGED" -eq 1 ]; then
  if [ -n "$ROOT" ] || command -v udevadm >/dev/null 2>&1; then
    sys udevadm control --reload-rules
    sys udevadm trigger --subsystem-match=tty --action=change
  else
    note "udevadm not found: the scanner rule applies at the next boot"
  fi
fi

# --- the service -----------------------------------------------------------------------------------------
if [ "$MODE" = pm2 ]; then
  # The unit finds pm2 (and node, pm2's interpreter) on its own PATH, not root's.
  unit_path="$(sed -n 's/^Environment=PATH=//p' "$SRC/systemd/kiosk-pm2.service")"
  found=''
  IFS=: read -r -a dirs <<<"$unit_path"
  for d in "${dirs[@]}"; do [ -x "$(R $d/pm2)" ] && { found="$d/pm2"; break; }; done
  if [ -z "$found" ]; then
    warn "kiosk-pm2.service will not find pm2 on its PATH ($unit_path)$(command -v pm2 >/dev/null 2>&1 && echo "; root's pm2 is $(command -v pm2), not on it") : sudo npm install -g pm2 (with NodeSource's node it lands in /usr/bin)"
  fi
fi
# Only one of the two may run: both would drive the same scanner and journal.
if [ -e "$(R $UNITS/$OTHER)" ]; then
  sys systemctl disable --now "$OTHER"
  run rm -f "$(R $UNITS/$OTHER)"
  UNIT_CHANGED=1
fi
n_before=${#CHANGED[@]}
if [ "$DRY_RUN" -eq 0 ]; then
  install_managed "$GEN/$UNIT" "$UNITS/$UNIT" 0644
  install_managed "$GEN/kiosk" "$BIN/kiosk" 0755
else
  echo "+ install -m 0644 $SRC/systemd/$UNIT $UNITS/$UNIT"
  echo "+ install -m 0755 $SRC/device/kiosk.sh $BIN/kiosk"
fi
[ ${#CHANGED[@]} -eq "$n_before" ] || UNIT_CHANGED=1
if [ "${UNIT_CHANGED:-0}" -eq 1 ] || [ "$DRY_RUN" -eq 1 ]; then sys systemctl daemon-reload; fi
sys systemctl enable "$UNIT"

# --- Mender: the kiosk-release update module, and the operator's key it checks artifacts with ------------------
if [ -n "$MENDER_KEY" ] || [ -d "$(R $MENDER_MODULES)" ]; then
  run install -d -m 0755 "$(R $MENDER_MODULES)" "$(R $MENDER_ETC)"
  if [ "$DRY_RUN" -eq 0 ]; then install_managed "$SRC/device/mender/kiosk-release" "$MENDER_MODULES/kiosk-release" 0755
  else echo "+ install -m 0755 $SRC/device/mender/kiosk-release $MENDER_MODULES/kiosk-release"; fi
  if [ -n "$MENDER_KEY" ]; then
    put "$MENDER_KEY" "$MENDER_ETC/kiosk-artifact-key.pem" 0644 root:root
    conf="$(R $MENDER_ETC/mender.conf)"
    if [ "$DRY_RUN" -eq 0 ]; then
      [ ! -e "$conf" ] || cp -p "$conf" "$conf.kiosk-bak"
      # Only ArtifactVerifyKey is set; everything else in the operator's client config stays as it is.
      KEYPATH="$MENDER_ETC/kiosk-artifact-key.pem" CONF="$conf" "$NODE" -e '
        const fs = require("fs"); const f = process.env.CONF; let c = {};
        if (fs.existsSync(f)) { try { c = JSON.parse(fs.readFileSync(f, "utf8")); } catch (e) { console.error(f + ": not JSON (" + e.message + "): left as it is"); process.exit(1); } }
        c.ArtifactVerifyKey = process.env.KEYPATH; fs.writeFileSync(f + ".new", JSON.stringify(c, null, 2) + "\n"); fs.renameSync(f + ".new", f);' ||
        die "$MENDER_ETC/mender.conf could not be updated (above); Mender would accept artifacts unchecked"
    fi
    note "$MENDER_ETC/mender.conf: ArtifactVerifyKey $MENDER_ETC/kiosk-artifact-key.pem (Mender now installs only artifacts signed by its private half)"
  fi
  # The client refuses its first install without a current artifact name.
  if [ ! -e "$(R $MENDER_ETC/artifact_info)" ]; then
    [ "$DRY_RUN" -eq 1 ] || echo "artifact_name=kiosk-$ID" >"$(R $MENDER_ETC/artifact_info)"
    note "$MENDER_ETC/artifact_info: artifact_name=kiosk-$ID"
  fi
  [ -e "$(R $MENDER_DATA/device_type)" ] || note "$MENDER_DATA/device_type is missing: write device_type=<the type your artifacts name> there (npm run release -- --device-type)"
  conf="$(R $MENDER_ETC/mender.conf)"
  [ -n "$MENDER_KEY" ] || { [ -e "$conf" ] && grep -q ArtifactVerifyKey "$conf"; } ||
    warn "Mender is installed but $MENDER_ETC/mender.conf names no ArtifactVerifyKey: it would install unsigned artifacts. Run again with --mender-verify-key FILE"
fi

# --- switch to the new release ---------------------------------------------------------------------------
WAS_ACTIVE=0
active && WAS_ACTIVE=1
if [ "$CUR" = "$ID" ]; then
  note "release $ID is current"
  if [ "$WAS_ACTIVE" -eq 1 ] && [ "${UNIT_CHANGED:-0}" -eq 1 ]; then
    wait_idle
    sys systemctl restart "$UNIT"
    wait_ready "$ID" || die "the kiosk did not answer ready within $READY_TIMEOUT s after its unit changed: kiosk logs says why"
  fi
else
  if [ -z "$CUR" ] && [ -e "$(R $APP/dist)" ]; then
    # A flat install by an earlier install.sh: its files move aside (nothing runs them any more).
    legacy="$(R $APP)/legacy-$(date +%Y%m%d-%H%M%S)"
    run install -d -m 0755 "$legacy"
    for f in "$(R $APP)"/* "$(R $APP)"/.[!.]*; do
      case "$(basename "$f")" in releases|current|previous|installed.sha256|.generated|.check.log|legacy-*|.scanner.env.seed) continue ;; esac
      [ -e "$f" ] && run mv "$f" "$legacy/"
    done
    note "the earlier flat install under $APP moved to $legacy: delete it once this release runs well"
  fi
  [ "$WAS_ACTIVE" -eq 0 ] || wait_idle
  if switch_to "$ID" "$CUR" "$WAS_ACTIVE"; then
    if [ "$WAS_ACTIVE" -eq 1 ]; then note "updated ${CUR:-nothing} -> $ID: the kiosk answers ready on it"
    else note "release $ID is current${CUR:+ (previous: $CUR)}"; fi
  else
    warn "release $ID did not answer ready within $READY_TIMEOUT s: rolling back to $CUR"
    if [ -n "$CUR" ] && rollback 1; then
      die "update to $ID failed and was rolled back: $CUR runs again. kiosk logs shows why $ID did not start"
    fi
    die "update to $ID failed and the rollback did not come up ready either: kiosk logs, kiosk doctor"
  fi
fi

# --- keep a few releases -----------------------------------------------------------------------------------
cur="$(link_target current)"; prev="$(link_target previous)"
mapfile -t all < <(cd "$(R $APP/releases)" 2>/dev/null && ls -1dt -- */ 2>/dev/null | sed 's|/$||' | grep -v '^\.' || true)
kept=0
for r in "${all[@]}"; do
  if [ "$r" = "$cur" ] || [ "$r" = "$prev" ]; then continue; fi
  kept=$((kept + 1))
  # current and previous count towards --keep
  if [ $((kept + 2)) -gt "$KEEP" ]; then run rm -rf "$(R $APP/releases/$r)"; note "pruned release $r"; fi
done

[ "$WAS_ACTIVE" -eq 1 ] || note "start it: sudo systemctl start ${UNIT%.service}; check it: sudo kiosk doctor && sudo kiosk status"
note "kiosk version: current $(link_target current), previous $(link_target previous || true)"
[ "$WARNINGS" -eq 0 ] || note "$WARNINGS warning(s) above"
