import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../errors.js';
import { MIGRATION_FORMATS, type MigrationFormat } from '../render/constraint-migration/files.js';
import type { FlagsOf } from './flags-of.js';

/** The --migration flags of constraint add, as commander parsed them. */
export type MigrationFlags = FlagsOf<ReturnType<typeof migrationOptions>>;

export interface MigrationRequest {
  format: MigrationFormat;
  dir: string;
  /** null: add_<constraint name>, known once planned. */
  name: string | null;
  version: string;
  overwrite: boolean;
}

export function migrationOptions() {
  return [
    new Option(
      '--migration <format>',
      'write up/down migration files for your migration tool instead of changing the database (reads the catalog only)',
    ).choices(MIGRATION_FORMATS),
    new Option('--migration-dir <dir>', 'existing folder the --migration files go to (a sqitch project folder for sqitch)'),
    new Option('--migration-name <name>', 'file and change name, letters, digits and _ (default: add_<constraint name>)'),
    new Option('--migration-version <n>', 'version for goose, golang-migrate (first of consecutive ones) and Flyway (default: UTC yyyymmddHHMMSS)'),
    new Option('--overwrite', 'with --migration: replace migration files that exist already (default: refuse, exit 2)'),
  ] as const;
}

/** null without --migration; the checks of the flags themselves (exit 2), before anything is opened. */
export function resolveMigrationFlags(flags: MigrationFlags & { printSql?: boolean }, now: Date): MigrationRequest | null {
  if (flags.migration === undefined) {
    const stray = [
      ['--migration-dir', flags.migrationDir],
      ['--migration-name', flags.migrationName],
      ['--migration-version', flags.migrationVersion],
      ['--overwrite', flags.overwrite],
    ].find(([, value]) => value !== undefined);
    if (stray !== undefined) throw new UsageError(`${stray[0]} goes with --migration <format>`);
    return null;
  }
  if (flags.printSql) throw new UsageError('--print-sql and --migration: choose one (--migration writes the files, --print-sql prints the statements)');
  if (flags.migrationDir === undefined) throw new UsageError(`--migration ${flags.migration} needs --migration-dir <dir>`);
  const name = flags.migrationName ?? null;
  if (name !== null && !/^[A-Za-z0-9_]{1,100}$/.test(name)) {
    throw new UsageError(`--migration-name "${name}": use 1 to 100 letters, digits and _ (it names files and a sqitch change)`);
  }
  const version = flags.migrationVersion ?? now.toISOString().replace(/\D/g, '').slice(0, 14);
  if (!/^[0-9]{1,18}$/.test(version)) throw new UsageError(`--migration-version "${version}": use 1 to 18 digits`);
  return { format: flags.migration, dir: flags.migrationDir, name, version, overwrite: flags.overwrite ?? false };
}

/** The default name: add_<constraint name>, in the letters a file and a sqitch change take. */
export function defaultMigrationName(constraintName: string): string {
  return `add_${constraintName.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 100);
}
