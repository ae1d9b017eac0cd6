#!/bin/sh
# /usr/local/bin/kiosk: the technician's command (installed by device/install.sh).
# Runs as the kiosk user even under sudo: files root created in /var/lib/kiosk (SQLite's -wal and -shm)
# would lock the daemon out of its own journal.
set -eu
export PM2_HOME="${PM2_HOME:-/var/lib/kiosk/.pm2}"
if [ "$(id -u)" -eq 0 ]; then
  exec runuser -u kiosk -- env PM2_HOME="$PM2_HOME" node /opt/kiosk/dist/src/cli/kiosk.js "$@"
fi
exec node /opt/kiosk/dist/src/cli/kiosk.js "$@"
