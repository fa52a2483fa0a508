import { Option } from 'commander';
import type { CommandSpec, RunContext } from '../cli/command-spec.js';
import { keyOptions, oneKeyFlag, outputOptions, tableOptions, type KeyFlags, type OutputFlags, type TableFlags } from '../cli/options.js';
import { note, withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { applyConstraintAdd } from '../core/constraint/apply-add.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../core/constraint/options.js';
import { optionalDuration } from '../cli/parse/duration.js';
import { planConstraintAdd } from '../core/constraint/plan-add.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { overlapNotes, renderConstraintAdd, renderConstraintAddSql } from '../render/constraint-add/index.js';

interface AddFlags extends TableFlags, KeyFlags, OutputFlags<'table' | 'json'> {
  name?: string;
  lockTimeout?: string;
  printSql?: boolean;
  evenIfImplied?: boolean;
}

export const constraintAddCommand: CommandSpec<AddFlags> = {
  name: 'add',
  description: 'refuse while duplicates remain; else build the unique index CONCURRENTLY and attach it as a constraint (exit 3: duplicates remain)',
  options: [
    ...tableOptions(),
    ...keyOptions('the one key to lock in: a preset (device-phone, …) or columns a,b,c'),
    new Option('--name <name>', 'constraint/index name (default: <table>_<columns>_key, e.g. leads_device_id_phone_key)'),
    new Option('--lock-timeout <duration>', 'lock_timeout for the final ALTER TABLE, e.g. 5s, 500ms (default: 5s)'),
    new Option('--even-if-implied', "build the key's own index even when a unique index on fewer of its columns already rejects its duplicates"),
    new Option('--print-sql', 'print the migration (statements in order, with comments) and change nothing'),
    ...outputOptions(['table', 'json']),
  ],
  examples: ['lead-dedupe constraint add --key device-phone --print-sql', 'lead-dedupe constraint add --key device-phone'],
  run: runAdd,
};

async function runAdd(flags: AddFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const lockTimeoutMs = optionalDuration(flags.lockTimeout, source('--lock-timeout'), 1, DEFAULT_LOCK_TIMEOUT_MS);
  const keyText = oneKeyFlag(flags, 'constraint add');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const text = await withDatabase(
    settings.target,
    async (database) => {
      const key = await loadOneKey(database.db, settings, keySettings, keyText, 'constraint add');
      const plan = await planConstraintAdd(database, {
        key,
        name: flags.name,
        lockTimeoutMs,
        evenIfImplied: flags.evenIfImplied ?? false,
        keySettings,
        commandLine: settings.commandLine,
      });
      if (flags.printSql) return renderConstraintAddSql(plan);
      // said before the build: the other unique index changes what the webhook's ON CONFLICT may do
      for (const text of overlapNotes(plan)) note(text, flags);
      const result = await withSpinner(`building ${plan.name}`, flags, () => applyConstraintAdd(database, plan));
      return renderConstraintAdd(result, flags.format, renderContext(settings.target, flags));
      // up to three connections: the build, then after a build that failed on duplicates scan's row count and key scan
    },
    { connections: 3 },
  );
  await writeReport(text, flags);
  return ExitCode.ok;
}
