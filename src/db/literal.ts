import { sql, type RawBuilder } from 'kysely';
import { escapeLiteral } from 'pg';

/**
 * A string as a SQL literal, for the few statements that cannot take a bound
 * parameter (COPY (…) TO STDOUT). node-postgres' escapeLiteral doubles quotes
 * and backslashes and writes an E'' string when there is a backslash, so
 * the literal means the same whether standard_conforming_strings is on or
 * off (kysely's sql.lit only doubles quotes: with the setting off, `\'`
 * would end the string early).
 */
export function textLiteral(value: string): RawBuilder<unknown> {
  return sql.raw(escapeLiteral(value));
}
