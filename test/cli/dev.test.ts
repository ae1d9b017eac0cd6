// kiosk dev: the local rig (sandbox + socat pty + the real daemon) and kiosk dev scan, spawned as a user would.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KIOSK = fileURLToPath(new URL('../../src/cli/kiosk.js', import.meta.url));
const kiosk = (...args: string[]) => spawnSync(process.execPath, [KIOSK, ...args], { encoding: 'utf8' });

/** Resolves when `text` has appeared in what `read()` returns; rejects after `ms`. */
async function until(read: () => string, test: RegExp, ms: number, what: string): Promise<string> {
  const end = performance.now() + ms;
  for (;;) {
    const now = read();
    if (test.test(now)) return now;
    if (performance.now() > end) throw new Error(`${what}: ${test} not seen in:\n${now.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('kiosk dev (local rig)', function () {
  // Each step is a node process of its own (a technician's command): seconds each on a loaded machine.
  this.timeout(120_000);
  let dir: string;
  let rig: ChildProcess | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-dev-'));
  });
  after(() => {
    if (rig && rig.exitCode === null) rig.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('brings up sandbox, pty scanner and daemon; dev scan pays; status sees it; Ctrl-C stops everything', async () => {
    const data = join(dir, 'rig');
    rig = spawn(process.execPath, [KIOSK, 'dev', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    rig.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    rig.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out, /kiosk dev: ready in /, 20000, 'rig start');
    const s = kiosk('dev', 'scan', 'paid', '--data', data);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /^typed paid wechat…\d{4} into the rig's scanner\nthe daemon took it: paying…\nresult: approved \(order DEMO01\S+\)$/m);
    const log = join(data, 'daemon.log');
    await until(() => (existsSync(log) ? readFileSync(log, 'utf8') : ''), /"event":"customer-result","kind":"approved"/, 10000, 'payment');
    // The result shows for display.resultMs; the scans below need the kiosk ready again (the commands in between
    // start fast enough now to land inside the result).
    const afterResult = () => {
      const text = readFileSync(log, 'utf8');
      return text.slice(text.lastIndexOf('"event":"customer-result"'));
    };
    await until(afterResult, /"indicator":"ready"/, 10000, 'ready after the result');

    // A second rig in the same folder would replace the config, the lock and the journal under this one.
    const config = readFileSync(join(data, 'config.json'), 'utf8');
    const twice = kiosk('dev', '--data', data);
    assert.equal(twice.status, 3, twice.stderr);
    assert.match(twice.stderr, /a rig is already running here \(pid \d+\)/);
    assert.equal(readFileSync(join(data, 'config.json'), 'utf8'), config);
    assert.ok(existsSync(join(data, 'journal.sqlite')));

    // Not digits and no behaviour: refused, nothing typed.
    const bogus = kiosk('dev', 'scan', 'bogus-behaviour', '--data', data);
    assert.equal(bogus.status, 2);
    assert.match(bogus.stderr, /"bogus-behaviour" is neither digits nor a sandbox behaviour \(paid, pending-then-paid/);

    // The first customer's result shows for display.resultMs: a scan before the kiosk is ready again is ignored
    // ("the kiosk is result"), so wait for it here (the commands above may take less than that).
    await until(() => readFileSync(log, 'utf8'), /"event":"customer-result","kind":"approved"[\s\S]*"indicator":"(ready|idle)"/, 10000, 'ready again');

    // A scan while a payment is in flight: the daemon ignores it, and the command says so.
    // The first payment's result shows for display.resultMs (3 s), and a scan meanwhile is ignored ("not now (the
    // kiosk is result)", nothing paid): on a machine where the commands above take less than that, scan again.
    let slowOut = '';
    let slowDone: Promise<number | null>;
    for (let attempt = 1; ; attempt++) {
      const slow = spawn(process.execPath, [KIOSK, 'dev', 'scan', 'pending-then-paid', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
      slowOut = '';
      slow.stdout.on('data', (d: Buffer) => (slowOut += d.toString()));
      slowDone = new Promise<number | null>((r) => slow.once('exit', r));
      await until(() => slowOut, /the daemon took it|not now \(the kiosk is result\)/, 10000, 'slow scan answered');
      if (!/not now/.test(slowOut) || attempt === 10) break;
      assert.equal(await slowDone, 1, slowOut);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.match(slowOut, /the daemon took it/);
    const ignored = kiosk('dev', 'scan', 'paid', '--data', data);
    assert.equal(ignored.status, 1, ignored.stdout + ignored.stderr);
    assert.match(ignored.stdout, /the daemon ignored it: not now \(the kiosk is processing\); nothing was paid/);
    assert.doesNotMatch(ignored.stdout, /took it|result:/);
    assert.equal(await slowDone, 0, slowOut);
    assert.match(slowOut, /result: approved/);
    const st = kiosk('status', '--config', join(data, 'config.json'), '--no-gateway');
    assert.match(st.stdout, /^daemon:\s+running/m);
    assert.match(st.stdout, /delivered 3\.50 wechat/);
    const exited = new Promise<number | null>((r) => rig!.once('exit', r));
    rig.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /kiosk dev: stopped/);
    // Nothing is left listening on the scanner.
    assert.equal(kiosk('dev', 'scan', 'paid', '--data', data).status, 1);

    // The next rig in the folder keeps the journal (and its orders): never deleted.
    const again = spawn(process.execPath, [KIOSK, 'dev', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    rig = again;
    let out2 = '';
    again.stdout.on('data', (d: Buffer) => (out2 += d.toString()));
    again.stderr.on('data', (d: Buffer) => (out2 += d.toString()));
    await until(() => out2, /kiosk dev: ready in /, 20000, 'second rig start');
    const st2 = kiosk('status', '--config', join(data, 'config.json'), '--no-gateway');
    assert.match(st2.stdout, /delivered\s+2/, st2.stdout);
    const exited2 = new Promise<number | null>((r) => again.once('exit', r));
    again.kill('SIGINT');
    assert.equal(await exited2, 0, out2);
  });

  it('--mdb: a simulated vending machine behind an MDB HAT on a second pty; dev machine chooses, dev scan pays, the machine vends', async () => {
    const data = join(dir, 'mdb');
    const config = join(data, 'config.json');
    rig = spawn(process.execPath, [KIOSK, 'dev', '--mdb', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    rig.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    rig.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out, /kiosk dev: ready in /, 20000, 'rig start');
    assert.match(out, /machine +a simulated vending machine behind an MDB HAT on \S+\/hat/);
    // Nothing chosen on the machine: the scan is not paid, and the command says what to do.
    const early = kiosk('dev', 'scan', 'paid', '--data', data);
    assert.equal(early.status, 1, early.stdout + early.stderr);
    assert.match(early.stdout, /not now \(the kiosk is idle; choose on the machine first: kiosk dev machine select 2/);
    const sel = kiosk('dev', 'machine', 'select', '2', '--data', data);
    assert.equal(sel.status, 0, sel.stdout + sel.stderr);
    assert.match(sel.stdout, /^product 2 chosen on the machine: it asks the kiosk to approve 3\.00\nthe kiosk asks the customer to scan/);
    const paid = kiosk('dev', 'scan', 'paid', '--data', data);
    assert.equal(paid.status, 0, paid.stdout + paid.stderr);
    assert.match(paid.stdout, /result: approved \(order DEMO01\S+\)/);
    const st = kiosk('mdb', 'status', '--config', config);
    assert.equal(st.status, 0, st.stdout + st.stderr);
    assert.match(st.stdout, />  C,VEND,3\.00\n.*<  c,VEND,SUCCESS/s);
    // A price the kiosk cannot take is denied at the machine, and the command says why (exit 1).
    const odd = kiosk('dev', 'machine', 'select', '9', '1.005', '--data', data);
    assert.equal(odd.status, 1, odd.stdout + odd.stderr);
    assert.match(odd.stdout, /the kiosk denied it \(C,STOP\): amount "1\.005" is not a price with 2 decimal places/);
    const state = kiosk('dev', 'machine', 'state', '--data', data);
    assert.equal(state.status, 0, state.stderr);
    assert.match(state.stdout, /^the machine: enabled; an approved vend is reported as: success\nlast lines from the kiosk: C,1 +C,VEND,3\.00 +C,STOP$/m);
    // Bad input: a clear answer, nothing done at the machine.
    const unknown = kiosk('dev', 'machine', 'select', '9', '--data', data);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /product "9" is not one of the rig's \(1 Water 1\.50, 2 Cola 3\.00, 3 Chips 5\.50\): give its price too/);
    assert.equal(kiosk('dev', 'machine', 'dance', '--data', data).status, 2);
    assert.equal(kiosk('dev', 'machine', 'outcome', 'maybe', '--data', data).status, 2);
    const exited = new Promise<number | null>((r) => rig!.once('exit', r));
    rig.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /kiosk dev: stopped/);
    assert.equal(kiosk('dev', 'machine', 'state', '--data', data).status, 1, 'no machine once the rig stopped');
  });

  it('scan without a rig says so; a folder that is not a rig is never emptied; unknown options are refused', () => {
    const none = kiosk('dev', 'scan', '134579761426152164', '--data', join(dir, 'none'));
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no rig in .*none \(start one with: kiosk dev --data/);
    const noMachine = kiosk('dev', 'machine', 'cancel', '--data', join(dir, 'none'));
    assert.equal(noMachine.status, 1);
    assert.match(noMachine.stderr, /kiosk dev machine: no rig in .*none/);
    const priced = kiosk('dev', '--mdb', '--pricing', 'menu', '--data', join(dir, 'none'));
    assert.equal(priced.status, 2);
    assert.match(priced.stderr, /with --mdb the vending machine names the price/);
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'notes.txt'), 'mine');
    const r = kiosk('dev', '--data', theirs);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is not a kiosk dev rig folder/);
    assert.equal(readFileSync(join(theirs, 'notes.txt'), 'utf8'), 'mine');
    // Folders are made one level at a time, bounded (src/dirs.ts): Node's recursive mkdir spun for ever under /proc.
    const proc = spawnSync(process.execPath, [KIOSK, 'dev', '--data', '/proc/kiosk-dev-rig/x'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(proc.status, 2, `${proc.signal ?? ''} ${proc.stderr}`);
    assert.match(proc.stderr, /dev: --data \/proc\/kiosk-dev-rig\/x is under \/proc, a kernel pseudo filesystem/);
    const underFile = spawnSync(process.execPath, [KIOSK, 'dev', '--data', join(theirs, 'notes.txt', 'rig')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(underFile.status, 2, underFile.stderr);
    assert.equal(underFile.stderr.trim().split('\n').at(-1), `kiosk: dev: --data ${join(theirs, 'notes.txt', 'rig')}: a part of the path is not a folder`);
    const bad = kiosk('dev', '--prot', '9');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --prot/);
  });
});
