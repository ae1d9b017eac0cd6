#!/usr/bin/env bash
# `npm run release [-- --mender --key FILE [--device-type T]... ] [--out DIR]`: one tarball of what
# device/install.sh installs (the files listed in device/release-files, from a built checkout), named by
# version and commit, with a SHA-256 manifest inside; `install.sh --from BUNDLE` installs it on a kiosk
# without git. With --mender, also the signed Mender artifact (update module kiosk-release) carrying it.
# docs/operations.md, "Updating many kiosks", tells the operator's side.
#
#   --out DIR          where to write (default ./release)
#   --mender           also write <name>.mender with mender-artifact (module-image -T kiosk-release)
#   --key FILE         the operator's signing key for the artifact: RSA (3072 bits or more) or ECDSA P-256,
#                      PEM (PKCS#1, SEC1 or PKCS#8); kiosks accept only artifacts signed by it
#   --device-type T    a Mender device type the artifact is for (repeatable; default raspberrypi)
#   --name NAME        the artifact name (default kiosk-<version>-<commit>)
# Exit 0 written; 1 a step failed (said which); 2 bad usage.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=release
MENDER=0
KEY=''
NAME=''
TYPES=()
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
need() { [ -n "${2:-}" ] || { echo "release: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) need "$1" "${2:-}"; OUT="$2"; shift 2 ;;
    --mender) MENDER=1; shift ;;
    --key) need "$1" "${2:-}"; KEY="$2"; shift 2 ;;
    --device-type) need "$1" "${2:-}"; TYPES+=("$2"); shift 2 ;;
    --name) need "$1" "${2:-}"; NAME="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "release: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
die() { echo "release: $*" >&2; exit 1; }
if [ "$MENDER" -eq 1 ]; then
  [ -n "$KEY" ] || { echo "release: --mender needs --key FILE (the operator's signing key; kiosks refuse unsigned artifacts)" >&2; exit 2; }
  [ -f "$KEY" ] || die "--key $KEY: no such file"
  command -v mender-artifact >/dev/null 2>&1 || die "mender-artifact is not installed (Debian: apt-get install mender-artifact)"
  [ ${#TYPES[@]} -gt 0 ] || TYPES=(raspberrypi)
elif [ -n "$KEY" ] || [ ${#TYPES[@]} -gt 0 ] || [ -n "$NAME" ]; then
  echo "release: --key, --device-type and --name are for --mender" >&2; exit 2
fi
[ -f dist/src/cli/kiosk.js ] || die "dist/src/cli/kiosk.js is missing: npm run build first (npm run release builds)"

VERSION="$(node -p "require('./package.json').version")"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo nogit)"
# A bundle made from uncommitted changes says so in its name: its commit alone would not reproduce it.
if [ "$COMMIT" != nogit ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT-dirty"; fi
BASE="umpay-kiosk-$VERSION-$COMMIT"
mapfile -t FILES < <(grep -v '^[[:space:]]*\(#\|$\)' device/release-files)
for f in "${FILES[@]}"; do [ -e "$f" ] || die "$f (device/release-files) is missing"; done

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/kiosk-release.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/$BASE"
for f in "${FILES[@]}"; do
  mkdir -p "$STAGE/$BASE/$(dirname "$f")"
  cp -a "$f" "$STAGE/$BASE/$f"
done
printf '{"name":"%s","version":"%s","commit":"%s","builtAt":"%s"}\n' "$BASE" "$VERSION" "$COMMIT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$STAGE/$BASE/bundle.json"
# Every file but the manifest itself, sorted: install.sh --from refuses a bundle with any file not listed.
(cd "$STAGE/$BASE" && find . -type f ! -name MANIFEST.sha256 -print0 | LC_ALL=C sort -z | xargs -0 sha256sum >MANIFEST.sha256)
mkdir -p "$OUT"
TAR="$OUT/$BASE.tar.gz"
tar --owner=0 --group=0 --numeric-owner -C "$STAGE" -czf "$TAR.part" "$BASE"
mv -f "$TAR.part" "$TAR"
(cd "$OUT" && sha256sum "$BASE.tar.gz" >"$BASE.tar.gz.sha256")
echo "bundle: $TAR ($(du -k "$TAR" | cut -f1) kB, $(wc -l <"$STAGE/$BASE/MANIFEST.sha256") files)"

if [ "$MENDER" -eq 1 ]; then
  # mender-artifact reads PKCS#1 (RSA) and SEC1 (EC) keys only: a PKCS#8 key is converted in a private temp file.
  SIGNKEY="$STAGE/sign.pem"
  (umask 077 && openssl pkey -in "$KEY" -traditional -out "$SIGNKEY" 2>"$STAGE/openssl.err") || die "--key $KEY: not a private key openssl can read: $(head -n 1 "$STAGE/openssl.err")"
  ART="$OUT/$BASE.mender"
  args=()
  for t in "${TYPES[@]}"; do args+=(-t "$t"); done
  mender-artifact write module-image -T kiosk-release -n "${NAME:-kiosk-$VERSION-$COMMIT}" "${args[@]}" -f "$TAR" -o "$ART.part" -k "$SIGNKEY" >"$STAGE/mender.log" 2>&1 ||
    die "mender-artifact failed: $(tail -n 3 "$STAGE/mender.log")"
  mv -f "$ART.part" "$ART"
  echo "artifact: $ART (name ${NAME:-kiosk-$VERSION-$COMMIT}, device types ${TYPES[*]}, signed with $KEY)"
fi
