import { UNICODE_DIGITS } from '../../src/keys/unicode-digits.js';

/**
 * The digits and e164 expressions written out by hand (see src/keys/normalize.ts),
 * for the exact-SQL unit tests. The digit map itself is checked on its own
 * against \p{Nd} in test/unit/normalize.test.ts.
 */
export function digitsOnlySql(column: string): string {
  const ascii = `(case when octet_length(${column}) = length(${column}) then ${column} else translate(${column}, '${UNICODE_DIGITS.from}', '${UNICODE_DIGITS.to}') end)`;
  return `regexp_replace(${ascii}, '[^0-9]', '', 'g')`;
}

export function digitsSql(column: string): string {
  return `nullif(${digitsOnlySql(column)}, '')`;
}

export function e164Sql(column: string, code: string): string {
  return `nullif(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace((case when ${column} ~ '^[[:space:]]*[+]' then 'p' else '' end) || ${digitsOnlySql(column)},
 '^p?$', ''), '^(p|00)', '+'), '^0', '+${code}'), '^${code}', '+${code}'), '^(?=[0-9])', '+${code}'), '')`;
}
