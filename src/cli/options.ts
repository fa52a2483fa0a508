import { Option } from '@commander-js/extra-typings';
import { CLEAN_DEFAULTS } from '../clean/defaults.js';
import { UsageError } from '../errors.js';
import type { OutputFormat } from '../render/common/render-as.js';
import type { FlagsOf } from './flags-of.js';

/**
 * The option groups several commands share, declared once (kysely-ctl's
 * arguments/common). Each call makes new Option objects: commander keeps
 * per-command state on them. Each returns a tuple (`as const`) so the flags
 * it declares keep their types (FlagsOf), and each group's flags type is
 * derived from it.
 */

/** commander's reducer for a repeatable flag; no default, so help shows none. */
export const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export type TableFlags = FlagsOf<ReturnType<typeof tableOptions>>;

export function tableOptions() {
  return [
    new Option(
      '-d, --database <url>',
      'postgres://user@host:port/db, "host=… dbname=…", pglite:<dir> or pglite:memory (default: $DATABASE_URL, then PGHOST/PGDATABASE/…, then the config file)',
    ),
    new Option('--config <file>', 'JSON config file (default: ./lead-dedupe.config.json when present)'),
    new Option('--table <name>', 'table holding the leads, optionally schema-qualified (default: leads)'),
    new Option('--id-column <name>', 'primary key column (default: id)'),
    new Option('--created-column <name>', 'creation time column; order falls back to the id without it (default: created_at)'),
    new Option('--map <logical=column>', 'use <column> wherever a key says <logical>, e.g. phone=phone_number (repeatable)').argParser(collect),
  ] as const;
}

/** Commands that read no key or row columns (seed, runs, restore, constraint drop): where the table is, nothing about its columns. */
export function connectionOptions() {
  const [database, config, table] = tableOptions();
  return [database, config, table] as const;
}

/** Where the server is, nothing about the table (connection). */
export function serverOptions() {
  const [database, config] = tableOptions();
  return [database, config] as const;
}

export type KeyFlags = FlagsOf<ReturnType<typeof keyOptions>>;

export function keyOptions(keyHelp: string) {
  return [
    new Option('--key <key>', keyHelp).argParser(collect),
    new Option('--normalize <column=rule>', 'normalise a key column in SQL: trim, lower, digits, e164 (repeatable)').argParser(collect),
    new Option('--default-country <code>', 'ISO 3166 alpha-2 country for e164 numbers without a country code, e.g. MY'),
    new Option('--nulls-equal', 'treat NULLs in key columns as equal (UNIQUE NULLS NOT DISTINCT)'),
  ] as const;
}

/** --format (its choices and default from `formats`: the first one), --output and --quiet. */
export type OutputFlags<Format extends string = OutputFormat> = FlagsOf<ReturnType<typeof outputOptions<readonly [Format, ...Format[]]>>>;

/** The formats most reports offer (scan, diagnose, runs). */
export const REPORT_FORMATS = ['table', 'json', 'csv'] as const satisfies readonly OutputFormat[];

export function outputOptions<const Formats extends readonly [string, ...string[]]>(formats: Formats, defaultFormat: Formats[number] = formats[0]) {
  return [
    new Option('--format <format>', 'report format').choices(formats).default(defaultFormat),
    new Option('--output <file>', 'write the report to a file instead of stdout (- for stdout)'),
    quietOption(),
  ] as const;
}

export function quietOption() {
  return new Option('--quiet', 'print nothing but errors');
}

export type ArchiveFlags = FlagsOf<readonly [ReturnType<typeof archiveOption>]>;

export function archiveOption(help = 'schema of the archive and run log (default: lead_dedupe)') {
  return new Option('--archive-schema <name>', help);
}

/** `--archive-schema`: a name PostgreSQL keeps whole (63 bytes), else the default. */
export function archiveSchema(value: string | undefined): string {
  if (value === undefined) return CLEAN_DEFAULTS.archiveSchema;
  if (value.trim() === '' || value.length > 63) throw new UsageError(`--archive-schema must be 1 to 63 characters; got "${value}"`);
  return value;
}

export type TimeoutFlags = FlagsOf<ReturnType<typeof timeoutOptions>>;

/** clean's and restore's limits, whatever the database or role sets: every statement of restore and of clean's batches runs under them. */
export function timeoutOptions() {
  return [
    new Option('--lock-timeout <duration>', 'give up waiting for a lock after this long, e.g. 5s (default: 5s)'),
    new Option('--statement-timeout <duration>', 'cancel a statement of a batch (clean) or of restore running longer than this, e.g. 10m (default: 60s)'),
  ] as const;
}

/** Commands that act on one key (clean, constraint add, sql upsert, diagnose) take exactly one --key. */
export function oneKeyFlag(flags: KeyFlags, command: string): string {
  const keys = flags.key ?? [];
  if (keys.length !== 1) throw new UsageError(`${command} takes exactly one --key, e.g. --key device-phone`);
  return keys[0]!;
}
