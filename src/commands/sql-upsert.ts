import { Command, Option } from 'commander';
import { addKeyOptions, addTableOptions, oneKeyFlag, type KeyFlags, type TableFlags } from '../cli/common-options.js';
import { note, writeReport } from '../cli/output.js';
import type { ActionRunner } from '../cli/program.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { planUpsert } from '../core/constraint/upsert.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderUpsert, type UpsertFormat } from '../render/upsert-sql.js';
import { ON_DUPLICATE, type OnDuplicate } from '../sql/upsert-plan.js';

interface UpsertFlags extends TableFlags, KeyFlags {
  onDuplicate: OnDuplicate;
  insertColumns?: string;
  updateColumns?: string;
  format: UpsertFormat;
  output?: string;
  quiet?: boolean;
}

/** `lead-dedupe sql …`: SQL for the application side. */
export function sqlCommand(run: ActionRunner): Command {
  const command = new Command('sql').description('print SQL for the application (e.g. the webhook) that matches a key');
  command.addCommand(upsertCommand(run).exitOverride().showHelpAfterError('(run with --help for usage)'));
  return command;
}

function upsertCommand(run: ActionRunner): Command {
  const command = new Command('upsert').description('print the race-free INSERT … ON CONFLICT for a key (matches the index constraint add builds)');
  addTableOptions(command);
  addKeyOptions(command, 'the key: a preset (device-phone, …) or columns a,b,c');
  return command
    .addOption(new Option('--on-duplicate <action>', 'skip: DO NOTHING; update: DO UPDATE SET the refreshable columns').choices(ON_DUPLICATE).makeOptionMandatory())
    .option('--insert-columns <a,b>', 'columns to insert, $1..$n in table order (default: all but the id and generated ones)')
    .option('--update-columns <a,b>', 'columns a duplicate refreshes (default: the inserted ones but key, id and created column)')
    .addOption(new Option('--format <format>', 'output').choices(['sql', 'json']).default('sql'))
    .option('--output <file>', 'write the SQL to a file instead of stdout')
    .option('--quiet', 'print nothing but errors')
    .action((flags: UpsertFlags) => run(() => runUpsert(flags)));
}

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
    });
  });
  if (plan.arbiters.length === 0) note(`warning: nothing enforces key ${plan.key.name} yet; run ${plan.addCommand} first`, flags);
  await writeReport(renderUpsert(plan, flags.format), flags);
  return ExitCode.ok;
}

function splitList(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((part) => part.trim()).filter(Boolean);
}
