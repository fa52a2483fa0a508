import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, oneKeyFlag, outputOptions, tableOptions } from '../cli/options.js';
import { lockWaitStatus, note, withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { applyConstraintAdd } from '../core/constraint/apply-add.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../core/constraint/options.js';
import { optionalDuration } from '../cli/parse/duration.js';
import { cancellable } from '../cli/interrupt.js';
import { planConstraintAdd } from '../core/constraint/plan-add.js';
import { loadOneKey } from '../core/lead-table.js';
import { requireTableOwner } from '../core/constraint/ownership.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { overlapNotes, renderConstraintAdd, renderConstraintAddCheck, renderConstraintAddSql } from '../render/constraint-add/index.js';
import { checkConstraintAdd } from '../core/constraint/check-add.js';
import { defaultMigrationName, migrationOptions, resolveMigrationFlags, type MigrationRequest } from '../cli/migration-flags.js';
import { checkMigrationDir, writeMigrationFiles } from '../cli/migration-files.js';
import { planConstraintMigration } from '../core/constraint/plan-migration.js';
import { renderMigrationFiles, renderMigrationWritten } from '../render/constraint-migration/index.js';
import type { ConstraintAddOptions } from '../core/constraint/plan-add.js';
import type { Database } from '../db/database.js';

const CONSTRAINT_ADD_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the one key to lock in: a preset (device-phone, …) or columns a,b,c'),
  new Option('--name <name>', 'constraint/index name (default: <table>_<columns>_key, e.g. leads_device_id_phone_key)'),
  new Option('--lock-timeout <duration>', 'lock_timeout for the final ALTER TABLE, e.g. 5s, 500ms (default: 5s)'),
  new Option('--even-if-implied', "build the key's own index even when a unique index on fewer of its columns already rejects its duplicates"),
  new Option('--print-sql', 'print the migration (statements in order, with comments) and change nothing'),
  new Option('--execute', 'really build it (default: check the table, count duplicates, print what would run and its locks)').conflicts([
    'printSql',
    'migration',
  ]),
  ...migrationOptions(),
  ...outputOptions(['table', 'json']),
] as const;

type AddFlags = FlagsOf<typeof CONSTRAINT_ADD_OPTIONS>;

export const constraintAddCommand = defineCommand({
  name: 'add',
  description:
    'refuse while duplicates remain; else build the unique index CONCURRENTLY and attach it as a constraint; dry run unless --execute (exit 3: duplicates remain)',
  options: CONSTRAINT_ADD_OPTIONS,
  examples: [
    'lead-dedupe constraint add --key device-phone',
    'lead-dedupe constraint add --key device-phone --execute',
    'lead-dedupe constraint add --key device-phone --print-sql',
    'lead-dedupe constraint add --key device-phone --migration goose --migration-dir db/migrations',
  ],
  exitCodes: {
    ...COMMON_EXIT_CODES,
    [ExitCode.duplicatesFound]: 'duplicates remain: the build failed on them and was dropped; clean first',
    [ExitCode.lockHeld]: 'the final ALTER hit --lock-timeout; the valid index is kept',
    [ExitCode.interrupted]: 'stopped by SIGINT/SIGTERM: the build is cancelled, its invalid index dropped',
  },
  run: runAdd,
});

async function runAdd(flags: AddFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const lockTimeoutMs = optionalDuration(flags.lockTimeout, source('--lock-timeout'), 1, DEFAULT_LOCK_TIMEOUT_MS);
  const keyText = oneKeyFlag(flags, 'constraint add');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const now = new Date();
  const migration = resolveMigrationFlags(flags, now);
  const folder = migration === null ? null : await checkMigrationDir(migration.dir);
  const text = await withDatabase(
    settings.target,
    async (database) => {
      const key = await loadOneKey(database.db, settings, keySettings, keyText, 'constraint add');
      const options: ConstraintAddOptions = {
        key,
        name: flags.name,
        lockTimeoutMs,
        evenIfImplied: flags.evenIfImplied ?? false,
        keySettings,
        commandLine: settings.commandLine,
      };
      // The files run elsewhere, and are committed: the commands they name never carry this run's connection flags.
      if (migration !== null) {
        return writeMigration(database, { ...options, commandLine: undefined }, migration, folder!, now, flags, renderContext(settings.target, flags));
      }
      // Before planning: the plan reads the table, which a user without rights fails on with a raw 42501.
      if (!flags.printSql) await requireTableOwner(database, key.table, 'constraint add');
      const plan = await planConstraintAdd(database, options);
      if (flags.printSql) return renderConstraintAddSql(plan);
      if (!flags.execute) return renderConstraintAddCheck(await checkConstraintAdd(database, plan), flags.format, renderContext(settings.target, flags));
      // said before the build: the other unique index changes what the webhook's ON CONFLICT may do
      for (const text of overlapNotes(plan)) note(text, flags);
      const result = await withSpinner(`building ${plan.name}`, flags, (status) =>
        cancellable(database, (stop) => applyConstraintAdd(database, plan, { stop, onLockWait: (blockers) => status(lockWaitStatus(blockers)) })),
      );
      return renderConstraintAdd(result, flags.format, renderContext(settings.target, flags));
      // up to three connections: the build (or the dry run's count), then after a build that failed on duplicates scan's row count and key scan
    },
    { connections: 3 },
  );
  await writeReport(text, flags);
  return ExitCode.ok;
}

/** --migration: plan as constraint add would, write the files, never change the database. */
async function writeMigration(
  database: Database,
  options: ConstraintAddOptions,
  request: MigrationRequest,
  folder: string,
  now: Date,
  flags: AddFlags,
  context: ReturnType<typeof renderContext>,
): Promise<string> {
  const planned = await planConstraintMigration(database, options);
  const name = request.name ?? defaultMigrationName(planned.plan.name);
  const output = renderMigrationFiles(planned, request.format, { name, version: request.version, now });
  const files = await writeMigrationFiles(folder, output, { overwrite: request.overwrite });
  return renderMigrationWritten(
    { format: request.format, table: planned.plan.table, key: planned.plan.key.name, name: planned.plan.name, dir: folder, files, run: output.run },
    flags.format,
    context,
  );
}
