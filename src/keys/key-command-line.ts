import type { ResolvedKey } from './key-definition.js';

/**
 * The `lead-dedupe clean` command that removes the duplicates blocking a
 * constraint: the same key, table and settings, so it deletes exactly what
 * the pre-flight counted. The database URL is left out on purpose: it may
 * carry a password, and the user already has it in --database or DATABASE_URL.
 *
 * @example lead-dedupe clean --key device-phone --normalize phone=e164 --default-country MY --execute
 */
export function cleanCommandFor(key: ResolvedKey): string {
  return keyCommand(key, ['clean'], ['--execute']);
}

/** `lead-dedupe <subcommand>` for the same key, table and settings, e.g. the scan that checks it. */
export function keyCommand(key: ResolvedKey, subcommand: string[], extra: string[]): string {
  const table = key.table;
  const args = ['lead-dedupe', ...subcommand, '--key', key.name];
  if (table.info.schema !== 'public' || table.info.name !== 'leads') args.push('--table', `${table.info.schema}.${table.info.name}`);
  if (table.idColumn !== 'id') args.push('--id-column', table.idColumn);
  if (table.createdColumn !== null && table.createdColumn !== 'created_at') args.push('--created-column', table.createdColumn);
  for (const column of key.columns) {
    if (column.logical !== column.column) args.push('--map', `${column.logical}=${column.column}`);
  }
  for (const column of key.columns) {
    if (column.normalize !== null) args.push('--normalize', `${column.logical}=${column.normalize}`);
  }
  if (key.defaultCountry !== null) args.push('--default-country', key.defaultCountry);
  if (key.nullsEqual) args.push('--nulls-equal');
  args.push(...extra);
  return args.map(shellWord).join(' ');
}

/** Quotes a word for a POSIX shell only when it needs it. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.,=:+\/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
