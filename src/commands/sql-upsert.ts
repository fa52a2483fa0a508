import { optionalCommaList } from '../cli/parse/comma-list.js';
import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type CommandSpec } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, oneKeyFlag, outputOptions, tableOptions } from '../cli/options.js';
import { note, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { planUpsert } from '../core/constraint/upsert.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, UsageError } from '../errors.js';
import { renderSqlUpsert } from '../render/sql-upsert/index.js';
import { renderClient, CLIENTS } from '../render/sql-upsert/client.js';
import { GO_DRIVERS } from '../render/sql-upsert/go-client.js';
import { upsertClient } from '../core/client/upsert-client.js';
import { keyCommand } from '../keys/key-command-line.js';
import { RETRY_POLICIES, type RetryPolicy } from '../sql/upsert-plan.js';

const UPSERT_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the key: a preset (device-phone, …) or columns a,b,c'),
  new Option(
    '--on-duplicate <policy>',
    'what a retry does to the stored lead: skip (keep it), fill (only its empty columns), overwrite (non-NULL values win), touch (bump --touch columns), newer (values win when --newer-column is later); a NULL never erases',
  ).makeOptionMandatory(),
  new Option('--insert-columns <a,b>', 'columns to insert, $1..$n in table order (default: all but the id and generated ones)'),
  new Option('--update-columns <a,b>', 'fill/overwrite/newer: columns a duplicate may change (default: the inserted ones but key, id and created column)'),
  new Option('--touch <a,b>', 'touch: timestamp columns set to now() and integer counters +1 on a duplicate, e.g. last_seen_at,submit_count'),
  new Option('--newer-column <column>', "newer: the timestamp column compared; a duplicate's values win only when it is later"),
  new Option('--require-index', 'exit 2 when no unique index enforces the key yet (default: a warning)'),
  new Option(
    '--retry-on-other-index',
    'generate even when the table has another unique index besides the arbiter, which can raise 23505 (the client retries it)',
  ),
  new Option(
    '--client <language>',
    'print client code for the statement instead: go (the client), go-test (its race test, <file>_test.go), ts (a module for node-postgres)',
  ).choices(CLIENTS),
  new Option(
    '--go-driver <driver>',
    'the Go API --client go writes for: pgx native v5/v4, or database/sql with pgx v5/v4 stdlib or lib/pq (the test imports that driver)',
  )
    .choices(GO_DRIVERS)
    .default('pgx-v5'),
  new Option('--go-package <name>', 'the Go package clause of the generated files').default('leads'),
  ...outputOptions(['sql', 'json']),
] as const;

type UpsertFlags = FlagsOf<typeof UPSERT_OPTIONS>;

const upsertCommand = defineCommand({
  name: 'upsert',
  description: 'print the race-free INSERT … ON CONFLICT for a key (matches the index constraint add builds)',
  options: UPSERT_OPTIONS,
  examples: [
    'lead-dedupe sql upsert --key device-phone --on-duplicate skip',
    'lead-dedupe sql upsert --key device-phone --on-duplicate fill',
    'lead-dedupe sql upsert --key device-phone --on-duplicate touch --touch last_seen_at,submit_count',
    'lead-dedupe sql upsert --key device-phone --on-duplicate skip --client go --go-driver lib-pq --output leads/upsert.go',
  ],
  exitCodes: COMMON_EXIT_CODES,
  run: runUpsert,
});

/** `lead-dedupe sql …`: SQL for the application side. */
export const sqlCommand: CommandSpec = {
  name: 'sql',
  description: 'print SQL for the application (e.g. the webhook) that matches a key',
  subcommands: [upsertCommand],
};

async function runUpsert(flags: UpsertFlags): Promise<ExitCode> {
  const policy = parsePolicy(flags.onDuplicate);
  const keyText = oneKeyFlag(flags, 'sql upsert');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  if (flags.client !== undefined && flags.format !== 'sql') throw new UsageError('--client prints code, not a report: leave out --format');
  if (!/^[a-z][a-z0-9_]*$/.test(flags.goPackage))
    throw new UsageError(`--go-package ${flags.goPackage}: want a Go package name (lower-case letters, digits, _)`);
  const { plan, client } = await withDatabase(settings.target, async (database) => {
    const key = await loadOneKey(database.db, settings, keySettings, keyText, 'sql upsert');
    const plan = await planUpsert(database, {
      key,
      onDuplicate: policy,
      insertColumns: optionalCommaList(flags.insertColumns),
      updateColumns: optionalCommaList(flags.updateColumns),
      touchColumns: optionalCommaList(flags.touch),
      newerColumn: flags.newerColumn,
      retryOnOtherIndex: flags.retryOnOtherIndex ?? false,
      requireIndex: flags.requireIndex ?? false,
      keySettings,
      commandLine: settings.commandLine,
    });
    // the header names the command without the connection or this checkout's path: generated code is committed, a host name need not be
    const generatedBy = keyCommand(key, ['sql', 'upsert'], [...policyWords(flags), ...clientWords(flags)], {
      ...settings.commandLine,
      invocation: ['lead-dedupe'],
      connection: [],
    });
    return { plan, client: upsertClient({ plan, key, db: database.db, generatedBy }) };
  });
  if (plan.arbiters.length === 0) note(`warning: nothing enforces key ${plan.key.name} yet; check and build it first with:\n  ${plan.addCommand}`, flags);
  const text =
    flags.client === undefined
      ? renderSqlUpsert(plan, flags.format, renderContext(settings.target, flags))
      : renderClient(client, flags.client, { driver: flags.goDriver, packageName: flags.goPackage });
  await writeReport(text, flags);
  return ExitCode.ok;
}

/** The retry policy; `update` (which let a NULL erase a stored value) is refused with its replacements. */
function parsePolicy(text: string): RetryPolicy {
  const policy = RETRY_POLICIES.find((name) => name === text);
  if (policy !== undefined) return policy;
  if (text === 'update') {
    throw new UsageError(
      '--on-duplicate update is gone (a NULL in the retry erased the stored value): use fill (only empty columns) or overwrite (non-NULL values win)',
    );
  }
  throw new UsageError(`--on-duplicate ${text}: unknown policy; use one of ${RETRY_POLICIES.join(', ')}`);
}

function clientWords(flags: UpsertFlags): string[] {
  const client = flags.client ?? 'go';
  return client === 'ts' ? ['--client', client] : ['--client', client, '--go-driver', flags.goDriver];
}

/** The flags that shaped the statement, for the generated file's header. */
function policyWords(flags: UpsertFlags): string[] {
  const words = ['--on-duplicate', flags.onDuplicate];
  if (flags.insertColumns !== undefined) words.push('--insert-columns', flags.insertColumns);
  if (flags.updateColumns !== undefined) words.push('--update-columns', flags.updateColumns);
  if (flags.touch !== undefined) words.push('--touch', flags.touch);
  if (flags.newerColumn !== undefined) words.push('--newer-column', flags.newerColumn);
  if (flags.retryOnOtherIndex) words.push('--retry-on-other-index');
  return words;
}
