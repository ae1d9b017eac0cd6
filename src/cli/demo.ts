// `kiosk demo [--pricing fixed|menu|keyed] [--vend relay|mdb] [--data DIR]`: the whole kiosk simulated in a terminal
// panel. `kiosk demo --auto N [--vend mdb] [--data DIR]`: N scripted customers, a summary table, exit 0 only if every
// outcome is what its test code should give (1 otherwise). Works without a terminal (CI). `--vend mdb`: a simulated
// vending machine names the product and price over MDB and vends it (docs/mdb.md).
import { join, resolve } from 'node:path';
import { autoTable, freshDir, runCustomers, startDemo } from '../kiosk/demo.js';
import { runPanel } from '../kiosk/panel.js';
import { intFlag, parseCommand, stringFlag, UsageError } from './args.js';

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('demo', argv);
  const dataDir = resolve(stringFlag(args, 'data') ?? 'demo-data');
  const pricing = stringFlag(args, 'pricing') ?? 'fixed';
  if (pricing !== 'fixed' && pricing !== 'menu' && pricing !== 'keyed') throw new UsageError(`demo: --pricing must be fixed, menu or keyed, got ${JSON.stringify(pricing)}`);
  const auto = intFlag(args, 'auto');
  const mod = stringFlag(args, 'module');
  if (mod !== undefined && mod !== 'gm') throw new UsageError(`demo: --module must be gm (a simulated Grow GM65), got ${JSON.stringify(mod)}`);
  const module = mod;
  const vend = stringFlag(args, 'vend') ?? 'relay';
  if (vend !== 'relay' && vend !== 'mdb') throw new UsageError(`demo: --vend must be relay or mdb, got ${JSON.stringify(vend)}`);
  if (vend === 'mdb' && pricing !== 'fixed') throw new UsageError('demo: with --vend mdb the vending machine names the price: --pricing is not used');

  if (auto !== undefined) {
    if (auto < 1 || auto > 1000) throw new UsageError(`demo: --auto must be 1 to 1000 customers, got ${auto}`);
    // A fresh journal and ledger each run, so the table only shows this run's customers.
    const demo = await startDemo({ dataDir: freshDir(join(dataDir, 'auto')), pricing: 'fixed', fast: true, module, vend });
    let rows;
    try {
      rows = await runCustomers(demo, auto);
    } finally {
      await demo.close();
    }
    const failed = rows.filter((r) => !r.ok).length;
    process.stdout.write(autoTable(rows) + '\n');
    process.stdout.write(
      failed === 0
        ? `${rows.length} customers, every outcome as its test code says. Daemon log: ${demo.logFile}\n`
        : `${failed} of ${rows.length} customers did not get what their test code says. Daemon log: ${demo.logFile}\n`,
    );
    return failed === 0 ? 0 : 1;
  }

  const demo = await startDemo({ dataDir, pricing, module, vend });
  try {
    await runPanel(demo, { input: process.stdin, output: process.stdout });
  } finally {
    await demo.close();
  }
  process.stdout.write(`demo stopped. Journal: ${demo.config.journal.path}  daemon log: ${demo.logFile}\n`);
  return 0;
}
