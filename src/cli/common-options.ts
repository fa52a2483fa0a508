import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';

/** Flags every command that opens the leads table takes (kept in one place, like kysely-ctl's arguments/common). */
export interface TableFlags {
  database?: string;
  config?: string;
  table?: string;
  idColumn?: string;
  createdColumn?: string;
  map: string[];
}

export interface KeyFlags {
  key: string[];
  normalize: string[];
  defaultCountry?: string;
  nullsEqual?: boolean;
}

export type OutputFormat = 'table' | 'json' | 'csv';

export interface OutputFlags {
  format: OutputFormat;
  output?: string;
  quiet?: boolean;
}

/** commander's reducer for a repeatable flag. */
export const collect = (value: string, previous: string[]) => [...previous, value];

export function addTableOptions(command: Command): Command {
  return command
    .option('--database <url>', 'postgres://user@host:port/db, pglite:<dir> or pglite:memory (default: $DATABASE_URL)')
    .option('--config <file>', 'JSON config file (default: ./lead-dedupe.config.json when present)')
    .option('--table <name>', 'table holding the leads, optionally schema-qualified (default: leads)')
    .option('--id-column <name>', 'primary key column (default: id)')
    .option('--created-column <name>', 'creation time, a timestamp/date column (default: created_at when the table has one, else order by the id)')
    .option('--map <logical=column>', 'use <column> wherever a key says <logical>, e.g. phone=phone_number (repeatable)', collect, []);
}

export function addKeyOptions(command: Command, keyHelp: string): Command {
  return command
    .option('--key <key>', keyHelp, collect, [])
    .option('--normalize <column=rule>', 'normalise a key column in SQL: trim, lower, digits, e164 (repeatable)', collect, [])
    .option('--default-country <code>', 'ISO 3166 alpha-2 country for e164 numbers without a country code, e.g. MY')
    .option('--nulls-equal', 'treat NULLs in key columns as equal (UNIQUE NULLS NOT DISTINCT)');
}

export function addOutputOptions(command: Command, formats: OutputFormat[] = ['table', 'json', 'csv']): Command {
  return command
    .addOption(new Option('--format <format>', 'report format').choices(formats).default('table'))
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--quiet', 'print nothing but errors');
}

/** Commands that act on one key (clean, constraint add, sql upsert) take exactly one --key. */
export function oneKeyFlag(flags: KeyFlags, command: string): string {
  if (flags.key.length !== 1) throw new UsageError(`${command} takes exactly one --key, e.g. --key device-phone`);
  return flags.key[0]!;
}
