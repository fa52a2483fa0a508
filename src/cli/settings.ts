import { environmentNamesServer, parseDatabaseTarget, withoutPassword, type DatabaseTarget } from '../db/database-target.js';
import type { CommandLineContext } from '../keys/key-command-line.js';
import type { KeySettings } from '../keys/resolve-key.js';
import type { NormalizeRule } from '../keys/key-definition.js';
import { parseNormalizeRule } from '../keys/normalize.js';
import { parseNameValue } from './parse/name-value.js';
import { archiveSchema, type ArchiveFlags, type KeyFlags, type TableFlags } from './options.js';
import { loadConfigFile, type ConfigFile } from './config-file.js';
import { invocationWords } from './invocation.js';

export interface TableSettings {
  target: DatabaseTarget;
  table: string;
  idColumn: string;
  /** As given by flag or config; null: the default created_at, when the table has it. */
  createdColumn: string | null;
  /** The archive schema the config names (commands.clean.archiveSchema), else the default: never a target. */
  archiveSchema: string;
  columnMap: Record<string, string>;
  config: ConfigFile;
  /** What a suggested follow-up command must repeat to reach the same database and settings. */
  commandLine: CommandLineContext;
}

/** Flags over the config file over defaults; the database: see resolveDatabaseTarget. */
export function resolveTableSettings(flags: TableFlags, env: NodeJS.ProcessEnv = process.env): TableSettings {
  const config = loadConfigFile(flags.config);
  return {
    target: resolveDatabaseTarget(flags.database, config.database, env),
    table: flags.table ?? config.table ?? 'leads',
    idColumn: flags.idColumn ?? config.idColumn ?? 'id',
    createdColumn: flags.createdColumn ?? config.createdColumn ?? null,
    archiveSchema: archiveSchema(stringSetting(config.commands?.clean?.archiveSchema)),
    columnMap: { ...config.columns, ...Object.fromEntries((flags.map ?? []).map((pair) => parseNameValue(pair, '--map', '<logical>=<column>'))) },
    config,
    commandLine: commandLineContext(flags, config),
  };
}

/**
 * What a pasted suggestion must repeat: how the tool was started
 * (invocation.ts), --database (as -d, without its password: the suggestion
 * says so) and --config when they were typed. DATABASE_URL, the PG*
 * variables and ./lead-dedupe.config.json need nothing: the pasted command
 * reads them too. The config's table settings are named explicitly, so a
 * suggestion that names the default table is not overruled by the config.
 */
export function commandLineContext(flags: TableFlags, config: ConfigFile): CommandLineContext {
  const connection: string[] = [];
  const database = flags.database?.trim() ?? '';
  if (database !== '') connection.push('-d', withoutPassword(database));
  if (flags.config !== undefined) connection.push('--config', flags.config);
  const configured = [
    ...(config.table !== undefined ? ['--table'] : []),
    ...(config.idColumn !== undefined ? ['--id-column'] : []),
    ...(config.createdColumn !== undefined ? ['--created-column'] : []),
  ];
  return { invocation: invocationWords(), connection, configured, passwordLeftOut: database !== '' && withoutPassword(database) !== database };
}

/**
 * --database/-d over DATABASE_URL over the PG* variables over the config
 * file's `database`, as psql users expect the environment to outrank a file
 * (docs/configuration.md). Whatever string wins, the PG*
 * variables still fill what it leaves out (libpq semantics).
 */
export function resolveDatabaseTarget(flag: string | undefined, fromConfig: string | undefined, env: NodeJS.ProcessEnv): DatabaseTarget {
  const given = (value: string | undefined) => value !== undefined && value.trim() !== '';
  if (given(flag)) return parseDatabaseTarget(flag, env, '--database');
  if (given(env.DATABASE_URL)) return parseDatabaseTarget(env.DATABASE_URL, env, 'DATABASE_URL');
  if (environmentNamesServer(env)) return parseDatabaseTarget(undefined, env);
  return parseDatabaseTarget(fromConfig, env, 'config file');
}

export function resolveKeySettings(flags: KeyFlags, table: TableSettings): KeySettings {
  const typed = (flags.normalize ?? []).map(parseNormalizeArgument);
  const config = table.config;
  return {
    columnMap: table.columnMap,
    normalize: { ...config.normalize, ...Object.fromEntries(typed) },
    typedNormalizeTargets: typed.map(([target]) => target),
    defaultCountry: flags.defaultCountry ?? config.defaultCountry ?? null,
    nullsEqual: flags.nullsEqual ?? config.nullsEqual ?? false,
    customKeys: config.keys ?? [],
  };
}

export function stringSetting(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

/** The archive schema: --archive-schema over the config's `commands.clean.archiveSchema` over lead_dedupe (the one place it is read). */
export function resolveArchiveSchema(flags: ArchiveFlags, table: TableSettings): string {
  return flags.archiveSchema === undefined ? table.archiveSchema : archiveSchema(flags.archiveSchema);
}

/** `--normalize phone=e164`: a column and one of the normalisation rules. */
export function parseNormalizeArgument(text: string): [column: string, rule: NormalizeRule] {
  const [column, rule] = parseNameValue(text, '--normalize', '<column>=<rule>, e.g. phone=e164');
  return [column, parseNormalizeRule(rule)];
}
