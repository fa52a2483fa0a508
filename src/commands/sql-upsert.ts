import { Option } from 'commander';
import type { CommandSpec } from '../cli/command-spec.js';
import { keyOptions, oneKeyFlag, outputOptions, tableOptions, type KeyFlags, type OutputFlags, type TableFlags } from '../cli/options.js';
import { note, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { planUpsert } from '../core/constraint/upsert.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderSqlUpsert, type SqlUpsertFormat } from '../render/sql-upsert/index.js';
import { ON_DUPLICATE, type OnDuplicate } from '../sql/upsert-plan.js';

interface UpsertFlags extends TableFlags, KeyFlags, OutputFlags<SqlUpsertFormat> {
  onDuplicate: OnDuplicate;
  insertColumns?: string;
  updateColumns?: string;
}

const upsertCommand: CommandSpec<UpsertFlags> = {
  name: 'upsert',
  description: 'print the race-free INSERT … ON CONFLICT for a key (matches the index constraint add builds)',
  options: [
    ...tableOptions(),
    ...keyOptions('the key: a preset (device-phone, …) or columns a,b,c'),
    new Option('--on-duplicate <action>', 'skip: DO NOTHING; update: DO UPDATE SET the refreshable columns').choices(ON_DUPLICATE).makeOptionMandatory(),
    new Option('--insert-columns <a,b>', 'columns to insert, $1..$n in table order (default: all but the id and generated ones)'),
    new Option('--update-columns <a,b>', 'columns a duplicate refreshes (default: the inserted ones but key, id and created column)'),
    ...outputOptions(['sql', 'json']),
  ],
  examples: [
    'lead-dedupe sql upsert --key device-phone --on-duplicate skip',
    'lead-dedupe sql upsert --key device-phone --on-duplicate update --update-columns name,email',
  ],
  run: runUpsert,
};

/** `lead-dedupe sql …`: SQL for the application side. */
export const sqlCommand: CommandSpec = {
  name: 'sql',
  description: 'print SQL for the application (e.g. the webhook) that matches a key',
  subcommands: [upsertCommand],
};

async function runUpsert(flags: UpsertFlags): Promise<ExitCode> {
  const keyText = oneKeyFlag(flags, 'sql upsert');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const plan = await withDatabase(settings.target, async (database) => {
    const key = await loadOneKey(database.db, settings, keySettings, keyText, 'sql upsert');
    return planUpsert(database, {
      key,
      onDuplicate: flags.onDuplicate,
      insertColumns: splitList(flags.insertColumns),
      updateColumns: splitList(flags.updateColumns),
      keySettings,
      commandLine: settings.commandLine,
    });
  });
  if (plan.arbiters.length === 0) note(`warning: nothing enforces key ${plan.key.name} yet; run ${plan.addCommand} first`, flags);
  await writeReport(renderSqlUpsert(plan, flags.format, renderContext(settings.target, flags)), flags);
  return ExitCode.ok;
}

function splitList(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
}
