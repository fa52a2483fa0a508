import { UNICODE_DIGITS } from '../../src/keys/unicode-digits.js';

/**
 * The digits and e164 expressions written out by hand (see src/keys/normalize.ts),
 * for the exact-SQL unit tests. The digit map itself is checked on its own
 * against \p{Nd} in test/unit/normalize.test.ts.
 */
export function digitsOnlySql(column: string): string {
  const ascii = `(case when pg_catalog.octet_length(${column}) operator(pg_catalog.=) pg_catalog.length(${column}) then ${column} else pg_catalog.translate(${column}, '${UNICODE_DIGITS.from}', '${UNICODE_DIGITS.to}') end)`;
  return `pg_catalog.regexp_replace(${ascii}, '[^0-9]', '', 'g')`;
}

export function digitsSql(column: string): string {
  return `nullif(${digitsOnlySql(column)}, '')`;
}

export function e164Sql(column: string, code: string): string {
  return `nullif(pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace((case when ${column} operator(pg_catalog.~) '^[[:space:]]*[+]' then 'p' else '' end) operator(pg_catalog.||) ${digitsOnlySql(column)},
 '^p?$', ''), '^(p|00)', '+'), '^0', '+${code}'), '^${code}', '+${code}'), '^(?=[0-9])', '+${code}'), '')`;
}
