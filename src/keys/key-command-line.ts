import { join } from 'shlex';
import type { LeadTable, ResolvedKey } from './key-definition.js';

/**
 * How a suggested command reaches the same database and settings, as data:
 * the command layer builds it (src/cli/settings.ts `commandLineContext`),
 * the core and the renderers append it to the commands they suggest, so a
 * pasted suggestion runs against what this run used.
 */
export interface CommandLineContext {
  /** How this run was started, e.g. `lead-dedupe`, `npx lead-dedupe`, `node bin/lead-dedupe.js` (src/cli/invocation.ts). */
  invocation: string[];
  /**
   * Words to repeat, e.g. `-d postgres://dba@db1/crm` (the password dropped:
   * PGPASSWORD or ~/.pgpass supplies it) and `--config prod.json`. Empty when
   * DATABASE_URL, the PG* variables or ./lead-dedupe.config.json supplied
   * them: a pasted command in the same shell and folder reads those too.
   */
  connection: string[];
  /** The -d given held a password, left out of the suggestions: they say so (passwordNote). */
  passwordLeftOut: boolean;
  /** Flags whose value the config file sets (--table, --id-column, --created-column): named even at their defaults, as the pasted command reads the config too. */
  configured: string[];
}

/** A suggestion for the shell the command was typed in, adding nothing (the API's default). */
export const SAME_SHELL: CommandLineContext = { invocation: ['lead-dedupe'], connection: [], configured: [], passwordLeftOut: false };

/** Said beside a suggestion whose -d lost its password, in parentheses after `lead`; `lead` alone otherwise. */
export function passwordNote(lead: string, context: CommandLineContext): string {
  return context.passwordLeftOut ? `${lead} (-d without the password given: PGPASSWORD or ~/.pgpass supplies it)` : lead;
}

/**
 * The `lead-dedupe clean` dry run that shows what removing the duplicates
 * blocking a constraint would do: the same key, table, settings and
 * connection, so it counts exactly what constraint add counted. Adding
 * --execute applies it.
 *
 * @example lead-dedupe clean -d postgres://dba@db1/crm --key device-phone --normalize phone=e164 --default-country MY
 */
export function cleanCommandFor(key: ResolvedKey, context: CommandLineContext = SAME_SHELL): string {
  return keyCommand(key, ['clean'], [], context);
}

/** `lead-dedupe <subcommand>` for the same key, table, settings and connection, e.g. the scan that checks it. */
export function keyCommand(key: ResolvedKey, subcommand: string[], extra: string[], context: CommandLineContext = SAME_SHELL): string {
  const table = key.table;
  const args = [...context.invocation, ...subcommand, ...context.connection, '--key', key.name, ...tableWords(table, context)];
  if (table.idColumn !== 'id' || context.configured.includes('--id-column')) args.push('--id-column', table.idColumn);
  if (table.createdColumn !== null && (table.createdColumn !== 'created_at' || context.configured.includes('--created-column'))) {
    args.push('--created-column', table.createdColumn);
  }
  for (const column of key.columns) {
    if (column.logical !== column.column) args.push('--map', `${column.logical}=${column.column}`);
  }
  for (const column of key.columns) {
    if (column.normalize !== null) args.push('--normalize', `${column.logical}=${column.normalize}`);
  }
  if (key.defaultCountry !== null) args.push('--default-country', key.defaultCountry);
  if (key.nullsEqual) args.push('--nulls-equal');
  args.push(...extra);
  return join(args);
}

/** `lead-dedupe <subcommand> <arguments>` on the same table and connection (constraint drop, restore, runs). */
export function tableCommand(table: LeadTable | null, subcommand: string[], extra: string[], context: CommandLineContext = SAME_SHELL): string {
  return join([...context.invocation, ...subcommand, ...context.connection, ...(table === null ? [] : tableWords(table, context)), ...extra]);
}

/** --table when not the default public.leads, or when the config file names a table the flag must outrank. */
function tableWords(table: LeadTable, context: CommandLineContext): string[] {
  const isDefault = table.info.schema === 'public' && table.info.name === 'leads';
  return isDefault && !context.configured.includes('--table') ? [] : ['--table', `${table.info.schema}.${table.info.name}`];
}

/** The `lead-dedupe restore <run>` that undoes a clean run (a rehearsal unless `execute`), on the same connection and archive. */
export function restoreCommandFor(
  runId: number | string,
  archiveSchema: string,
  { execute }: { execute: boolean },
  context: CommandLineContext = SAME_SHELL,
): string {
  const archive = archiveSchema === 'lead_dedupe' ? [] : ['--archive-schema', archiveSchema];
  return tableCommand(null, ['restore', String(runId)], [...archive, ...(execute ? ['--execute'] : [])], context);
}
