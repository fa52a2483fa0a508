import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, oneKeyFlag, outputOptions, tableOptions } from '../cli/options.js';
import { lockWaitStatus, renderContext, withSpinner, writeReport } from '../cli/output.js';
import { cancellable } from '../cli/interrupt.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { applyIndexAdd } from '../core/key-index/apply-index.js';
import { planIndexAdd } from '../core/key-index/plan-index.js';
import { loadOneKey } from '../core/lead-table.js';
import { requireTableOwner } from '../core/constraint/ownership.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderIndexAdd, renderIndexAddSql } from '../render/index-add/index.js';

const INDEX_ADD_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the one key to index: a preset (device-phone, …) or columns a,b,c'),
  new Option('--name <name>', 'index name (default: <table>_<columns>_idx, e.g. leads_device_id_phone_idx)'),
  new Option('--print-sql', 'print the migration (statements in order, with comments) and change nothing'),
  new Option('--execute', 'really build it (default: print what would run)'),
  ...outputOptions(['table', 'json']),
] as const;

type AddFlags = FlagsOf<typeof INDEX_ADD_OPTIONS>;

export const indexAddCommand = defineCommand({
  name: 'add',
  description: "build a plain index on exactly the key's expressions (CREATE INDEX CONCURRENTLY), for scan --since; dry run unless --execute",
  options: INDEX_ADD_OPTIONS,
  examples: [
    'lead-dedupe index add --key device-phone',
    'lead-dedupe index add --key device-phone --execute',
    'lead-dedupe index add --key device-phone --print-sql',
  ],
  exitCodes: {
    ...COMMON_EXIT_CODES,
    [ExitCode.interrupted]: 'stopped by SIGINT/SIGTERM: the build is cancelled, its invalid index dropped',
  },
  run: runAdd,
});

async function runAdd(flags: AddFlags): Promise<ExitCode> {
  const keyText = oneKeyFlag(flags, 'index add');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const text = await withDatabase(settings.target, async (database) => {
    const key = await loadOneKey(database.db, settings, keySettings, keyText, 'index add');
    // Before planning: the plan reads the table, which a user without rights fails on with a raw 42501.
    if (flags.execute && !flags.printSql) await requireTableOwner(database, key.table, 'index add');
    const plan = await planIndexAdd(database, { key, name: flags.name });
    if (flags.printSql) return renderIndexAddSql(plan);
    const result = await withSpinner(`building ${plan.name}`, flags, (status) =>
      cancellable(database, (stop) =>
        applyIndexAdd(database, plan, flags.execute ?? false, { stop, onLockWait: (blockers) => status(lockWaitStatus(blockers)) }),
      ),
    );
    return renderIndexAdd(result, flags.format, renderContext(settings.target, flags));
  });
  await writeReport(text, flags);
  return ExitCode.ok;
}
