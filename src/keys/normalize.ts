import { sql, type RawBuilder } from 'kysely';
import { getCountryCallingCode, isSupportedCountry } from 'libphonenumber-js';
import { UsageError } from '../errors.js';
import { NORMALIZE_RULES, type NormalizeRule } from './key-definition.js';
import { UNICODE_DIGITS } from './unicode-digits.js';

export function parseNormalizeRule(text: string): NormalizeRule {
  const rule = NORMALIZE_RULES.find((candidate) => candidate === text.trim().toLowerCase());
  if (!rule) throw new UsageError(`unknown normalize rule "${text}"; rules: ${NORMALIZE_RULES.join(', ')}`);
  return rule;
}

/** The calling code from libphonenumber-js's metadata, e.g. MY → "60". */
export function callingCodeFor(country: string | null | undefined): string {
  if (!country) throw new UsageError('--normalize …=e164 needs --default-country <ISO 3166 alpha-2>, e.g. MY');
  const upper = country.trim().toUpperCase();
  if (!isSupportedCountry(upper)) throw new UsageError(`unknown --default-country "${country}"; use an ISO 3166 alpha-2 code such as MY`);
  return getCountryCallingCode(upper);
}

/**
 * The SQL expression a rule applies to a text column. It is built from
 * constants and the calling code only (digits from libphonenumber-js), so it
 * can also serve as a unique index expression and as the body of the rule's
 * function (normalize-function.ts): every function used is IMMUTABLE, and
 * every function and operator is pg_catalog's own, named so, so a look-alike
 * planted in a schema on some session's search_path is never called.
 * (NULLIF is syntax; its `=` is pg_catalog's under the tool's pinned
 * search_path and is stored by OID in an index or a function's SQL body.)
 *
 * e164 with calling code 60:
 *   `+60 12-345 6789`, `0060123456789`, `012-345 6789`, `60123456789` → `+60123456789`
 */
export function normalizeExpression(column: RawBuilder<unknown>, rule: NormalizeRule | null, callingCode: string | null): RawBuilder<unknown> {
  switch (rule) {
    case null:
      return column;
    case 'trim':
      return sql`pg_catalog.btrim(${column})`;
    case 'lower':
      return sql`pg_catalog.lower(pg_catalog.btrim(${column}))`;
    case 'digits':
      return sql`nullif(${onlyDigits(column)}, '')`;
    case 'e164':
      return e164Expression(column, checkedCallingCode(callingCode ?? callingCodeFor(null)));
    default:
      return rule satisfies never;
  }
}

/** The calling code goes into SQL text and a function's name: digits only. */
export function checkedCallingCode(callingCode: string): string {
  if (!/^[0-9]{1,4}$/.test(callingCode)) throw new UsageError(`invalid calling code "${callingCode}"`);
  return callingCode;
}

/**
 * The value's digits, Unicode decimal digits (Arabic-Indic, Devanagari,
 * fullwidth, …) first mapped to ASCII. translate() scans its 760-character
 * map for every character, so it only runs on values that hold a non-ASCII
 * character at all (in UTF8, more bytes than characters); plain ASCII phones
 * cost one length comparison more than before. All IMMUTABLE.
 */
function onlyDigits(column: RawBuilder<unknown>): RawBuilder<unknown> {
  const ascii = sql`(case when pg_catalog.octet_length(${column}) operator(pg_catalog.=) pg_catalog.length(${column}) then ${column} else pg_catalog.translate(${column}, ${sql.lit(UNICODE_DIGITS.from)}, ${sql.lit(UNICODE_DIGITS.to)}) end)`;
  return sql`pg_catalog.regexp_replace(${ascii}, '[^0-9]', '', 'g')`;
}

/**
 * The digits are computed once (they carry the Unicode digit map, ~2 KB of
 * SQL), then a chain of anchored replacements applies the first matching
 * rule; a leading `p` marks a value that started with `+`:
 *   no digits → NULL · `+` or `00` → `+` · `0` → `+<code>` · `<code>…` → `+<code>…` · else `+<code>` prepended
 */
function e164Expression(column: RawBuilder<unknown>, callingCode: string): RawBuilder<unknown> {
  const marked = sql`(case when ${column} operator(pg_catalog.~) '^[[:space:]]*[+]' then 'p' else '' end) operator(pg_catalog.||) ${onlyDigits(column)}`;
  const withPrefix = sql.lit(`+${callingCode}`);
  return sql`nullif(pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(${marked},
 '^p?$', ''), '^(p|00)', '+'), '^0', ${withPrefix}), ${sql.lit(`^${callingCode}`)}, ${withPrefix}), '^(?=[0-9])', ${withPrefix}), '')`;
}
