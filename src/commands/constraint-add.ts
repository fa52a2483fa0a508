import { Command, Option } from 'commander';
import { addKeyOptions, addTableOptions, oneKeyFlag, type KeyFlags, type TableFlags } from '../cli/common-options.js';
import { withSpinner, writeReport } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { applyConstraintAdd } from '../core/constraint/apply-add.js';
import { DEFAULT_LOCK_TIMEOUT } from '../core/constraint/options.js';
import { planConstraintAdd } from '../core/constraint/plan-add.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderConstraintAdd } from '../render/constraint-add.js';
import { renderConstraintAddSql } from '../render/constraint-add-sql.js';
import type { ActionRunner } from '../cli/program.js';

interface AddFlags extends TableFlags, KeyFlags {
  name?: string;
  lockTimeout: string;
  printSql?: boolean;
  format: 'table' | 'json';
  output?: string;
  quiet?: boolean;
}

export function constraintAddCommand(run: ActionRunner): Command {
  const command = new Command('add').description(
    'refuse while duplicates remain; else build the unique index CONCURRENTLY and attach it as a constraint (exit 3: duplicates remain)',
  );
  addTableOptions(command);
  addKeyOptions(command, 'the one key to lock in: a preset (device-phone, …) or columns a,b,c');
  return command
    .option('--name <name>', 'constraint/index name (default: <table>_<columns>_key, e.g. leads_device_id_phone_key)')
    .option('--lock-timeout <duration>', 'lock_timeout for the final ALTER TABLE, e.g. 5s, 500ms', DEFAULT_LOCK_TIMEOUT)
    .option('--print-sql', 'print the migration (statements in order, with comments) and change nothing')
    .addOption(new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'))
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--quiet', 'print nothing but errors')
    .action((flags: AddFlags) => run(() => runAdd(flags)));
}

async function runAdd(flags: AddFlags): Promise<ExitCode> {
  const keyText = oneKeyFlag(flags, 'constraint add');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const text = await withDatabase(settings.target, async (database) => {
    const key = await loadOneKey(database.db, settings, keySettings, keyText, 'constraint add');
    const plan = await planConstraintAdd(database, { key, name: flags.name, lockTimeout: flags.lockTimeout });
    if (flags.printSql) return renderConstraintAddSql(plan);
    const result = await withSpinner(`building ${plan.name}`, flags, () => applyConstraintAdd(database, plan));
    return renderConstraintAdd(result, flags.format);
    // three connections: the pre-flight's row count and key scan, and the index build beside them
  }, { connections: 3 });
  await writeReport(text, flags);
  return ExitCode.ok;
}
