import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { renderContext, withSpinner, writeReport } from '../cli/output.js';
import { loadLeadTable } from '../core/lead-table.js';
import { scan } from '../scan/scan.js';
import { diagnose } from '../core/diagnose/diagnose.js';
import { DIAGNOSE_DEFAULTS } from '../core/diagnose/diagnose-settings.js';
import { renderDiagnose } from '../render/diagnose/index.js';
import { renderScan } from '../render/scan/index.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, UsageError } from '../errors.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../cli/parse/whole-number.js';
import { resolveKeys } from '../keys/resolve-key.js';
import { renderSeed } from '../render/seed/index.js';
import { seed } from '../seed/seed.js';
import { DEMO_ROWS } from '../seed/seed-plan.js';
import { join as shellJoin } from 'shlex';
import { invocationWords } from '../cli/invocation.js';

const DEMO_OPTIONS = [
  new Option('--dir <dir>', 'folder for the embedded database, recreated whole (only a folder demo made, or a new or empty one)').default('.lead-dedupe-demo'),
  new Option('--rows <n>', 'leads to generate').default(String(DEMO_ROWS)),
] as const;

type DemoFlags = FlagsOf<typeof DEMO_OPTIONS>;

export const demoCommand = defineCommand({
  name: 'demo',
  description: 'seed an embedded database (PGlite, no server needed) and scan it with every preset key',
  options: DEMO_OPTIONS,
  examples: ['lead-dedupe demo', 'lead-dedupe demo --dir demo-20k --rows 20000'],
  exitCodes: COMMON_EXIT_CODES,
  run: runDemo,
});

async function runDemo(flags: DemoFlags): Promise<ExitCode> {
  const rows = optionalWholeNumber(flags.rows, '--rows', WHOLE_RANGES.seedRows, DEMO_ROWS);
  const database = `pglite:${flags.dir}`;
  const target = { kind: 'pglite', dataDir: resolve(flags.dir) } as const;
  recreateDemoFolder(target.dataDir);
  const context = renderContext(target);
  const output = await withDatabase(
    target,
    async (db) => {
      const seeded = await withSpinner('seeding the embedded database', {}, () => seed(db, { table: 'leads', rows, scenario: 'production', replace: true }));
      const table = await loadLeadTable(db.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' }, 'demo');
      const noSettings = { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] };
      const { keys, skipped } = resolveKeys(table, [], noSettings);
      const report = await withSpinner('scanning every preset', {}, () => scan(db, { table, keys, skippedKeys: skipped, top: 5 }));
      const devicePhone = keys.find((key) => key.name === 'device-phone')!;
      const diagnosis = await withSpinner('diagnosing device-phone', {}, () => diagnose(db, { key: devicePhone, settings: DIAGNOSE_DEFAULTS, columnMap: {} }));
      return {
        scanned: `embedded database: ${database}\n${renderSeed(seeded, 'table', context)}\n${await renderScan(report, 'table', context)}`,
        diagnosis: renderDiagnose(diagnosis, 'table', context),
      };
    },
    { createPglite: true },
  );
  await writeReport(
    output.scanned +
      [
        '',
        // Files in the current folder, not the shared temporary one: they hold (made-up) phone numbers, and in a
        // folder everyone can write to, anyone could have put a file or a link at that name first.
        'Try next, on the same embedded database (the files land in this folder):',
        // started as this run was (npm run demo: node bin/lead-dedupe.js), so each runs as printed
        ...[
          ['scan', '--database', database, '--key', 'device-phone', '--normalize', 'phone=e164', '--default-country', 'MY'],
          ['scan', '--database', database, '--key', 'device-phone', '--details', 'duplicates.csv', '--format', 'json'],
          ['diagnose', '--database', database, '--key', 'device-phone', '--by', 'source', '--format', 'json'],
          ['report', '--database', database, '--output', 'report.html'],
        ].map((words) => `  ${shellJoin([...invocationWords(), ...words])}`),
        '',
        // The diagnosis comes last: its four answers are what the demo leads to.
        'Why the device-phone duplicates arise (lead-dedupe diagnose --key device-phone):',
        '',
        output.diagnosis,
      ].join('\n'),
    {},
  );
  return ExitCode.ok;
}

/** The file demo leaves in its folder: the proof that the folder is demo's to delete. */
export const DEMO_MARKER = 'LEAD_DEDUPE_DEMO';

/**
 * The demo database is recreated whole, so nothing of an earlier demo (its archive, its runs)
 * survives to confuse `runs` or `restore`. Only a folder demo made (it holds the marker) is
 * deleted; a new or empty folder is used; any other folder is refused (exit 2), untouched.
 */
function recreateDemoFolder(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(join(dir, DEMO_MARKER))) {
      throw new UsageError(
        `--dir ${dir} is not empty and was not made by lead-dedupe demo (no ${DEMO_MARKER} file in it), so it is left alone; pick another --dir`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, DEMO_MARKER), 'made by lead-dedupe demo; the next demo run deletes and recreates this folder\n');
}
