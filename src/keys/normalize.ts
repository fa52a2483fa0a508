import { sql, type RawBuilder } from 'kysely';
import { getCountryCallingCode, isSupportedCountry } from 'libphonenumber-js';
import { UsageError } from '../errors.js';
import { NORMALIZE_RULES, type NormalizeRule } from './key-definition.js';

export function parseNormalizeRule(text: string): NormalizeRule {
  const rule = NORMALIZE_RULES.find((candidate) => candidate === text.trim().toLowerCase());
  if (!rule) throw new UsageError(`unknown normalize rule "${text}"; rules: ${NORMALIZE_RULES.join(', ')}`);
  return rule;
}

/** `phone=e164` → ['phone', 'e164'] */
export function parseNormalizeArgument(text: string): [column: string, rule: NormalizeRule] {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) {
    throw new UsageError(`--normalize takes <column>=<rule>, e.g. phone=e164; got "${text}"`);
  }
  return [text.slice(0, at).trim(), parseNormalizeRule(text.slice(at + 1))];
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
 * can also serve as a unique index expression: every function used is
 * IMMUTABLE.
 *
 * e164 with calling code 60:
 *   `+60 12-345 6789`, `0060123456789`, `012-345 6789`, `60123456789` → `+60123456789`
 */
export function normalizeExpression(
  column: RawBuilder<unknown>,
  rule: NormalizeRule | null,
  callingCode: string | null,
): RawBuilder<unknown> {
  switch (rule) {
    case null:
      return column;
    case 'trim':
      return sql`btrim(${column})`;
    case 'lower':
      return sql`lower(btrim(${column}))`;
    case 'digits':
      return sql`nullif(regexp_replace(${column}, '[^0-9]', '', 'g'), '')`;
    case 'e164':
      return e164Expression(column, callingCode ?? callingCodeFor(null));
    default:
      return rule satisfies never;
  }
}

function e164Expression(column: RawBuilder<unknown>, callingCode: string): RawBuilder<unknown> {
  if (!/^[0-9]{1,4}$/.test(callingCode)) throw new UsageError(`invalid calling code "${callingCode}"`);
  const digits = sql`regexp_replace(${column}, '[^0-9]', '', 'g')`;
  const code = sql.lit(callingCode);
  return sql`(case when ${digits} = '' then null
 when ${column} ~ '^[[:space:]]*[+]' then '+' || ${digits}
 when ${digits} like '00%' then '+' || substr(${digits}, 3)
 when ${digits} like '0%' then '+' || ${code} || substr(${digits}, 2)
 when ${digits} like ${sql.lit(`${callingCode}%`)} then '+' || ${digits}
 else '+' || ${code} || ${digits} end)`;
}
