import { sql, type RawBuilder } from 'kysely';
import { normalizeExpression } from '../../keys/normalize.js';
import type { ComparatorKind, SuspectFunctions } from '../model.js';

/**
 * The form in which a comparator (and a block on its column) reads a value:
 * phones as e164 (or their digits without a default country), e-mails
 * trimmed, lower-cased, without a +tag and, at Gmail, without dots; names
 * trimmed, lower-cased, accents folded, spaces collapsed (nameKey also
 * sorts the words). Functions of extensions are called schema-qualified.
 */

/** Letters that carry their stroke or ligature in the letter itself (no decomposition), and their base letters. */
const UNDECOMPOSED = { from: 'łŁøØđĐßæÆœŒ', to: 'lLoOdDsaAoO' };

/**
 * unaccent() when the extension is installed, else Unicode's own
 * decomposition: NFD, the combining marks (U+0300–U+036F) dropped, NFC
 * again (other scripts keep their composed letters), then the few letters
 * that do not decompose. Only for values with a non-ASCII character (more
 * bytes than characters). The earlier translate() over every accented Latin
 * letter scanned a 700-letter map per character: 40 µs a name, most of a
 * suspects run.
 */
export function foldAccents(value: RawBuilder<unknown>, functions: SuspectFunctions): RawBuilder<string> {
  if (functions.unaccent !== null) return sql<string>`${sql.id(functions.unaccent, 'unaccent')}(${value})`;
  const unmarked = sql`pg_catalog.normalize(pg_catalog.regexp_replace(pg_catalog.normalize(${value}, 'NFD'), ${sql.lit('[\\u0300-\\u036f]')}, '', 'g'), 'NFC')`;
  return sql<string>`(case when pg_catalog.octet_length(${value}) = pg_catalog.length(${value}) then ${value}
             else pg_catalog.translate(${unmarked}, ${sql.lit(UNDECOMPOSED.from)}, ${sql.lit(UNDECOMPOSED.to)}) end)`;
}

export function phoneForm(value: RawBuilder<unknown>, callingCode: string | null): RawBuilder<string> {
  return normalizeExpression(value, callingCode === null ? 'digits' : 'e164', callingCode) as RawBuilder<string>;
}

/** `Jo.Se+promo@GoogleMail.com ` → `jose@gmail.com`. */
export function emailForm(value: RawBuilder<unknown>): RawBuilder<string> {
  return emailFormOfLowered(emailLowered(value));
}

/** The e-mail form's first stage: trimmed, lower case. */
export function emailLowered(value: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`pg_catalog.lower(pg_catalog.btrim(${value}))`;
}

/** The e-mail form from its first stage (which it reads six times: over every row, computed once in a fenced subquery). */
export function emailFormOfLowered(trimmed: RawBuilder<unknown>): RawBuilder<string> {
  // split_part, not a regular expression: the same cut (from the first +), a third of the cost over every row
  const local = sql`pg_catalog.split_part(pg_catalog.split_part(${trimmed}, '@', 1), '+', 1)`;
  const domain = sql`pg_catalog.split_part(${trimmed}, '@', 2)`;
  return sql<string>`nullif(case when ${domain} in ('gmail.com', 'googlemail.com') then pg_catalog.replace(${local}, '.', '') || '@gmail.com'
            else ${local} || '@' || ${domain} end, '@')`;
}

/** `  José   GARCÍA` → `jose garcia`. */
export function nameForm(value: RawBuilder<unknown>, functions: SuspectFunctions): RawBuilder<string> {
  return sql<string>`nullif(pg_catalog.regexp_replace(${nameLowered(value, functions)}, '[[:space:]]+', ' ', 'g'), '')`;
}

/** The name form's first stage: trimmed, accents folded, lower case. */
export function nameLowered(value: RawBuilder<unknown>, functions: SuspectFunctions): RawBuilder<string> {
  return sql<string>`pg_catalog.lower(${foldAccents(sql`pg_catalog.btrim(${value})`, functions)})`;
}

/**
 * nameForm from its first stage, the regular expression skipped when it
 * would change nothing (ASCII, no two spaces in a row, no tab or line
 * break): over every row, most of the name form's cost.
 */
export function nameFormOfLowered(lowered: RawBuilder<unknown>): RawBuilder<string> {
  const plain = sql`pg_catalog.octet_length(${lowered}) = pg_catalog.length(${lowered}) and pg_catalog.strpos(${lowered}, '  ') = 0
    and pg_catalog.translate(${lowered}, ${sql.lit('\t\n\v\f\r')}, '') = ${lowered}`;
  return sql<string>`nullif(case when ${plain} then ${lowered} else pg_catalog.regexp_replace(${lowered}, '[[:space:]]+', ' ', 'g') end, '')`;
}

/**
 * A name form with its first three words sorted (`garcia jose` for `José
 * García` and `García José`), further words after them as they come. With
 * least/greatest, not a subquery that sorts: that cost 0.1 ms a row.
 */
export function nameKey(form: RawBuilder<unknown>): RawBuilder<string> {
  const [t1, t2, t3] = [1, 2, 3].map((n) => sql`pg_catalog.split_part(${form}, ' ', ${sql.lit(n)})`);
  const middle = sql`greatest(least(${t1}, ${t2}), least(greatest(${t1}, ${t2}), ${t3}))`;
  const rest = sql`pg_catalog.substr(${form}, pg_catalog.length(${t1}) + pg_catalog.length(${t2}) + pg_catalog.length(${t3}) + 4)`;
  return sql<string>`pg_catalog.btrim(least(${t1}, ${t2}, ${t3}) || ' ' || ${middle} || ' ' || greatest(${t1}, ${t2}, ${t3}) || ' ' || ${rest})`;
}

/** The form a column is compared (and blocked) in: by its comparator's kind; a column no comparator reads is taken as it is. */
export function comparedForm(
  value: RawBuilder<unknown>,
  kind: ComparatorKind | null,
  callingCode: string | null,
  functions: SuspectFunctions,
): RawBuilder<unknown> {
  switch (kind) {
    case 'phone':
      return phoneForm(value, callingCode);
    case 'email':
      return emailForm(value);
    case 'name':
      return nameForm(value, functions);
    case 'equal':
    case 'time':
    case null:
      return value;
    default:
      return kind satisfies never;
  }
}
