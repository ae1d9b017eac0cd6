// pm2 process file for the kiosk daemon. CommonJS (.cjs) because package.json says "type": "module" and
// pm2 loads this file with require(): a .cjs file works on every Node that pm2 runs on.
// ecosystem.config.js beside it re-exports this for `pm2 start ecosystem.config.js`.
//   pm2 start ecosystem.config.cjs --env production
'use strict';

// The daemon's own stop budget (config daemon.graceMs, default 5000 ms). pm2 must wait longer before
// SIGKILL, or an in-flight payment step could be cut between the network and its journal entry.
const DAEMON_GRACE_MS = 5000;

module.exports = {
  apps: [
    {
      name: 'kiosk',
      cwd: __dirname,
      script: 'dist/src/cli/kiosk.js',
      // A 1 MB young generation: V8's default grows it after a burst of payments and keeps it, which reads
      // as ~40 MB of RSS growth on a 512 MB Pi (bench/memory.ts measures it; docs/performance.md).
      // No optimizing compiler (interpreter and baseline code only): what it compiled for the hot payment
      // path (code, its metadata, and its compile zones kept by malloc) was the RSS growth after 10,000
      // payments; a kiosk's JS per payment is too little to pay that back (docs/performance.md).
      // systemd/kiosk.service's ExecStart passes the same flags.
      node_args: ['--max-semi-space-size=1', '--max-opt=1'],
      // KIOSK_CONFIG lets a test or a bench run point pm2 at another config; the field uses the default.
      args: ['run', '--config', process.env.KIOSK_CONFIG || '/etc/kiosk/config.json'],
      // One process, never a cluster: two daemons would drive the same scanner, relay and journal.
      exec_mode: 'fork',
      instances: 1,
      autorestart: true,
      // The daemon calls process.send('ready') once the config is valid, the journal open and recovery started.
      wait_ready: true,
      listen_timeout: 20000,
      kill_timeout: DAEMON_GRACE_MS * 2,
      // Restart delay grows from 200 ms up to pm2's cap of 15 s while the daemon keeps failing.
      exp_backoff_restart_delay: 200,
      // A crash loop shorter than min_uptime counts as unstable; after max_restarts pm2 stops trying
      // (shown as "errored" in `pm2 ls`) rather than spin forever on a broken install.
      min_uptime: '30s',
      max_restarts: 50,
      // 78 (EX_CONFIG): the config is invalid. Restarting cannot fix that; the problems are in the log.
      stop_exit_codes: [78],
      // A Pi Zero 2 has 512 MB; the daemon normally stays well under 100 MB.
      max_memory_restart: '200M',
      // Logs: the daemon writes JSON lines (pino) on stdout; pm2 adds a timestamp to each line.
      time: true,
      merge_logs: true,
      env: { NODE_ENV: 'production' },
      env_production: { NODE_ENV: 'production' },
    },
  ],
};
