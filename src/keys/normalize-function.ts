import { sql, type RawBuilder } from 'kysely';
import type { NormalizeRule, ResolvedKey } from './key-definition.js';
import { checkedCallingCode, normalizeExpression } from './normalize.js';

/**
 * A normalised key column is indexed, and named in the webhook's ON
 * CONFLICT, through one short SQL function per rule, e.g.
 * `lead_dedupe.e164_60_v1(phone)` (e164 with calling code 60), instead of
 * the ~1.9 KB expression itself. The function is `LANGUAGE sql IMMUTABLE
 * PARALLEL SAFE` with a SQL-standard body (`RETURN …`, PostgreSQL 14+):
 * the body is parsed once, when it is created, under the tool's pinned
 * search_path, and stored with its functions' and operators' OIDs, so no
 * session's search_path can change what it calls. PostgreSQL inlines such a
 * function into the queries, index expressions and ON CONFLICT targets that
 * call it, so it costs nothing per row, and an index built by an earlier
 * version from the expression itself is still inferred as the arbiter of
 * the short conflict target (both inline to the same expression).
 *
 * Scan, clean and the details export never call the function: they use its
 * body (normalizeExpression, the same builder), so they work read-only, on a
 * standby, and before any constraint exists. The function is created by
 * `constraint add` and `index add`, never replaced: a changed rule gets a new
 * version in its name (NORMALIZE_FUNCTION_VERSION).
 */
export const NORMALIZE_FUNCTION_SCHEMA = 'lead_dedupe';

/** Bump when any rule's body changes: the new body then gets new names, and existing indexes keep the old function. */
export const NORMALIZE_FUNCTION_VERSION = 1;

/** SQL-standard function bodies (RETURN …) arrived in PostgreSQL 14. */
export const NORMALIZE_FUNCTION_MIN_SERVER = 140000;

export interface NormalizeFunction {
  schema: string;
  /** e.g. e164_60_v1: lowercase letters, digits and underscores only. */
  name: string;
  rule: NormalizeRule;
  callingCode: string | null;
}

export function normalizeFunctionFor(rule: NormalizeRule, callingCode: string | null): NormalizeFunction {
  const code = rule === 'e164' ? checkedCallingCode(callingCode ?? '') : null;
  const name = `${rule}${code === null ? '' : `_${code}`}_v${NORMALIZE_FUNCTION_VERSION}`;
  return { schema: NORMALIZE_FUNCTION_SCHEMA, name, rule, callingCode: code };
}

/** The functions a key's normalised columns use, each once. */
export function keyNormalizeFunctions(key: ResolvedKey): NormalizeFunction[] {
  const functions = key.columns.flatMap((column) => (column.normalize === null ? [] : [normalizeFunctionFor(column.normalize, key.callingCode)]));
  return functions.filter((fn, index) => functions.findIndex((other) => other.name === fn.name) === index);
}

/** `lead_dedupe.e164_60_v1` (both parts are constants of the tool, plain lowercase: no quotes needed). */
export function normalizeFunctionName(fn: NormalizeFunction): string {
  return `${fn.schema}.${fn.name}`;
}

/** @example lead_dedupe.e164_60_v1("phone") */
export function normalizeFunctionCall(fn: NormalizeFunction, column: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`${sql.raw(normalizeFunctionName(fn))}(${column})`;
}

/** The parameter the body names. */
export const NORMALIZE_FUNCTION_PARAMETER = 'value';

/** The body: the rule's expression over the parameter, exactly what scan computes over a column. */
export function normalizeFunctionBody(fn: NormalizeFunction): RawBuilder<unknown> {
  return normalizeExpression(sql.id(NORMALIZE_FUNCTION_PARAMETER), fn.rule, fn.callingCode);
}
