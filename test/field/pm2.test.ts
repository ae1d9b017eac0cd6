// The real pm2 (devDependency, a private PM2_HOME) runs the real daemon from ecosystem.config.cjs against
// a sandbox in this process, the scanner on a pty (socat). It proves what the field relies on:
//  - wait_ready: pm2 calls the app online only once the daemon said ready;
//  - a daemon killed with SIGKILL in the middle of a payment is restarted by pm2 (new pid, restart +1)
//    and its recovery finishes the unfinished order: the customer charged at most once, and not out of pocket.
// The ready file ($KIOSK_READY_FILE, written just before process.send('ready')) is a FIFO: the daemon
// blocks on it until the test reads it, so "ready logged but not yet signalled" is a state the test can
// hold and look at, not a race.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, constants, createWriteStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal, type OrderRow } from '../../src/journal/journal.js';
import { testCode } from '../../src/sandbox/codes.js';
import { PtyPair } from '../hardware/pty.js';
import { DaemonFixture } from '../kiosk/daemon-helpers.js';
import { until } from '../wait.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ECOSYSTEM = join(ROOT, 'ecosystem.config.cjs');
const PM2_BIN = createRequire(import.meta.url).resolve('pm2/bin/pm2');

interface Pm2Proc {
  name: string;
  pid: number;
  pm2_env: { status: string; restart_time: number; unstable_restarts: number; exit_code?: number; pm_out_log_path: string; pm_err_log_path: string; exec_mode: string };
}

/** A zombie (state Z: exited, not yet reaped by a container's init) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('field/pm2: the real pm2 on ecosystem.config.cjs', function () {
  this.timeout(40_000);
  // Temp folders are made in before(), not here: a run that loads this file but skips it (--grep) leaves none.
  let fx: DaemonFixture;
  let pty: PtyPair;
  let pm2Home: string;
  let readyFifo: string;
  let env: NodeJS.ProcessEnv;
  let feeder: WriteStream | undefined;
  let firstPid = 0;
  let newPid = 0;
  let logs: string[] = [];
  const code = testCode('answer-lost', 'wechat');
  // Each test builds on the one before: after a failure the rest are skipped, not left to time out.
  let broken = false;
  beforeEach(function () {
    if (broken) this.skip();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') broken = true;
  });

  const pm2 = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [PM2_BIN, ...args], { env: { ...env, ...extraEnv }, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });

  const kiosk = async (): Promise<Pm2Proc | undefined> => {
    const { code, stdout, stderr } = await pm2(['jlist']);
    assert.equal(code, 0, `pm2 jlist: ${stderr}`);
    // Only the JSON line: pm2 may print notices around it.
    const json = stdout.split('\n').find((l) => l.startsWith('['));
    assert.ok(json, `pm2 jlist printed no JSON: ${stdout}`);
    return (JSON.parse(json) as Pm2Proc[]).find((p) => p.name === 'kiosk');
  };

  /** The pid a daemon writes to the ready FIFO once ready; bounded, so a daemon that never comes fails the test. */
  const readyPid = async (deadlineMs = 20_000): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no daemon said ready within ${deadlineMs} ms`)), deadlineMs)));
    try {
      return Number(await Promise.race([readFile(readyFifo, 'utf8'), late]));
    } finally {
      clearTimeout(timer);
    }
  };

  const withJournal = <T>(fn: (j: ReturnType<typeof openJournal>) => T): T => {
    const j = openJournal(fx.journalPath, { readonly: true });
    try {
      return fn(j);
    } finally {
      j.close();
    }
  };

  before(async () => {
    fx = new DaemonFixture();
    pty = new PtyPair();
    pm2Home = mkdtempSync(join(tmpdir(), 'kiosk-pm2-'));
    readyFifo = join(fx.dir, 'ready.fifo');
    await fx.start();
    await pty.start();
    fx.writeConfig({
      scanner: { driver: 'serial', path: pty.device, baudRate: 9600, terminator: 'CR', reopenMinMs: 50, reopenMaxMs: 200 },
      payment: { customerWindowMs: 5000, queryIntervalMs: 500 },
    });
    execFileSync('mkfifo', ['-m', '0600', readyFifo]);
    env = { ...process.env, PM2_HOME: pm2Home, KIOSK_CONFIG: fx.configFile, KIOSK_READY_FILE: readyFifo };
  });

  after(async () => {
    feeder?.destroy();
    // After a failed test: a daemon blocked writing the ready FIFO, or this process blocked reading it, is
    // released (EOF), so pm2's SIGTERM stops the daemon at once and mocha can exit.
    for (const flags of readyFifo ? [constants.O_RDONLY, constants.O_WRONLY] : []) {
      try {
        closeSync(openSync(readyFifo, flags | constants.O_NONBLOCK));
      } catch {
        /* nobody on the other end */
      }
    }
    // Always: no pm2 daemon may outlive the test run. (`pm2 kill` without one would first spawn one.)
    const godFile = pm2Home && join(pm2Home, 'pm2.pid');
    if (godFile && existsSync(godFile) && alive(Number(readFileSync(godFile, 'utf8')))) await pm2(['kill']);
    await pty?.dispose();
    await fx?.dispose();
    if (pm2Home) rmSync(pm2Home, { recursive: true, force: true });
  });

  it('pm2 start: the app is "launching" while the daemon has logged ready but not signalled it, online after', async () => {
    // pm2's own daemon first: two CLIs finding none at once would each spawn one on the same PM2_HOME.
    assert.equal((await pm2(['ping'])).code, 0);
    let startFailed = '';
    const started = pm2(['start', ECOSYSTEM, '--env', 'production']).then((r) => {
      if (r.code !== 0) startFailed = `pm2 start ${ECOSYSTEM} exited ${r.code}: ${r.stderr}${r.stdout}`;
      return r;
    });
    const launching = await until('kiosk in pm2 jlist', async () => {
      assert.equal(startFailed, '');
      const p = await kiosk();
      return p?.pm2_env.pm_out_log_path ? p : undefined;
    });
    const outLog = launching.pm2_env.pm_out_log_path;
    logs = [outLog, launching.pm2_env.pm_err_log_path];
    assert.equal(launching.pm2_env.exec_mode, 'fork_mode');
    // The daemon logged "ready" and is now blocked writing the ready FIFO, just before process.send('ready').
    await until('the ready log line', () => (existsSync(outLog) && readFileSync(outLog, 'utf8').includes('"event":"ready"') ? true : undefined));
    const held = await kiosk();
    assert.equal(held?.pm2_env.status, 'launching', 'without wait_ready pm2 would already say online');

    firstPid = await readyPid();
    const online = await until('kiosk online', async () => {
      const p = await kiosk();
      return p?.pm2_env.status === 'online' ? p : undefined;
    });
    assert.equal(online.pid, firstPid, 'the process pm2 runs is the one that said ready');
    assert.equal(online.pm2_env.restart_time, 0);
    const cli = await started;
    assert.equal(cli.code, 0, `pm2 start: ${cli.stderr}`);
  });

  it('SIGKILL in the middle of a payment: pm2 restarts the daemon, recovery reverses the order, charged once and returned', async () => {
    // The pid from pm2 first: once the answer is lost the daemon queries within queryIntervalMs, no time for a jlist.
    const before = await kiosk();
    assert.equal(before?.pid, firstPid);
    const charged = fx.sandbox.waitFor((e) => e.path === '/pay/micropay');
    feeder = createWriteStream(pty.feeder, { flags: 'w' });
    feeder.on('error', () => {});
    feeder.write(code + '\r');
    // The sandbox has taken the money and dropped the connection: the daemon has no answer yet.
    const { orderNo } = await charged;
    assert.ok(orderNo);
    process.kill(firstPid, 'SIGKILL');

    const stranded = withJournal((j) => j.get(orderNo));
    assert.ok(stranded && !stranded.final, `the killed daemon left the order unfinished (${stranded?.state})`);
    assert.equal(fx.sandbox.ledger().orders.find((o) => o.orderNo === orderNo)?.charged, 1);

    // The restarted daemon signals ready through the FIFO like the first one.
    newPid = await readyPid();
    assert.notEqual(newPid, firstPid);
    const restarted = await until('kiosk online again', async () => {
      const p = await kiosk();
      return p?.pm2_env.status === 'online' && p.pid === newPid ? p : undefined;
    });
    assert.equal(restarted.pm2_env.restart_time, 1);

    const final = await until('the order final in the journal', () => {
      const o: OrderRow | undefined = withJournal((j) => j.get(orderNo));
      return o?.final ? o : undefined;
    }, { everyMs: 100 });
    assert.equal(final.state, 'reversed', `recovered to ${final.state}`);
    assert.equal(withJournal((j) => j.unfinished()).length, 0);

    const ledger = fx.sandbox.ledger().orders.filter((o) => o.orderNo === orderNo);
    assert.equal(ledger.length, 1);
    assert.equal(ledger[0]!.charged, 1, 'never charged twice');
    assert.equal(ledger[0]!.state, 'cancelled');
    assert.equal(ledger[0]!.netFen, 0, 'the customer is not out of pocket');
    assert.equal(fx.sandbox.stats().requests['/pay/micropay'], 1, 'recovery never re-sends the micropay');

    const after = await kiosk();
    assert.equal(after?.pid, newPid, 'still the same process: no further restarts');
    assert.equal(after?.pm2_env.restart_time, 1);
  });

  it('an invalid config: exit 78, the problems in pm2\'s error log, and no restart', async () => {
    // `pm2 delete` stops the running daemon with SIGTERM (checked in the log below).
    assert.equal((await pm2(['delete', 'kiosk'])).code, 0);
    const badConfig = join(fx.dir, 'bad.json');
    writeFileSync(badConfig, JSON.stringify({ deviceId: 5 }));
    await pm2(['start', ECOSYSTEM, '--env', 'production'], { KIOSK_CONFIG: badConfig });
    const exited = await until('kiosk exited 78', async () => {
      const p = await kiosk();
      return p?.pm2_env.exit_code === 78 ? p : undefined;
    });
    assert.equal(exited.pid, 0);
    assert.match(readFileSync(exited.pm2_env.pm_err_log_path, 'utf8'), /refusing to start: \d+ problems in .*bad\.json[\s\S]*deviceId: must be a string/);
    // A restart would come after exp_backoff_restart_delay (200 ms): five times that without one is enough.
    const end = Date.now() + 1000;
    while (Date.now() < end) {
      const p = await kiosk();
      assert.equal(p?.pm2_env.restart_time, 0, 'pm2 restarted a daemon with an invalid config');
      assert.equal(p?.pid, 0);
    }
  });

  it('pm2 kill stops pm2 itself; the logs held the whole story, never the payment code', async () => {
    const god = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8'));
    assert.equal((await pm2(['kill'])).code, 0);
    await until('the pm2 daemon gone', () => (alive(god) ? undefined : true), { deadlineMs: 5000 });
    for (const pid of [firstPid, newPid]) assert.equal(alive(pid), false, `daemon ${pid} still running`);
    // pm2 creates a log file at the first line written to it.
    const [out, err] = logs.map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : ''));
    assert.ok(out!.includes('"event":"recovery"'), 'the restarted daemon logged its recovery');
    assert.ok(out!.includes('"event":"stopped"'), 'pm2 delete stopped it cleanly (SIGTERM)');
    assert.ok(!out!.includes(code) && !err!.includes(code), 'payment code in the pm2 logs');
  });
});
