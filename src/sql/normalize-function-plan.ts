import { sql, type RawBuilder } from 'kysely';
import {
  NORMALIZE_FUNCTION_PARAMETER,
  NORMALIZE_FUNCTION_SCHEMA,
  normalizeFunctionBody,
  normalizeFunctionName,
  type NormalizeFunction,
} from '../keys/normalize-function.js';

/**
 * Pure SQL for the rule functions of keys/normalize-function.ts: create one
 * (in the tool's schema, or as a same-named probe in pg_temp), and compare
 * what exists under a name with the probe, so a function is never
 * redefined and one that differs is refused.
 */

/** @example create schema if not exists "lead_dedupe" */
export function createNormalizeSchemaStatement(): RawBuilder<unknown> {
  return sql`create schema if not exists ${sql.id(NORMALIZE_FUNCTION_SCHEMA)}`;
}

/**
 * Not `or replace`: an index may depend on the function, and replacing its
 * body would leave that index inconsistent. Not STRICT, not SECURITY DEFINER
 * and without SET: any of those would stop PostgreSQL from inlining it.
 *
 * @example create function lead_dedupe.trim_v1("value" text) returns text
 *   language sql immutable parallel safe return pg_catalog.btrim("value")
 */
export function createNormalizeFunctionStatement(fn: NormalizeFunction, where: 'schema' | 'probe' = 'schema'): RawBuilder<unknown> {
  const name = where === 'schema' ? sql.raw(normalizeFunctionName(fn)) : sql`pg_temp.${sql.raw(fn.name)}`;
  return sql`create function ${name}(${sql.id(NORMALIZE_FUNCTION_PARAMETER)} text) returns text
language sql immutable parallel safe
return ${normalizeFunctionBody(fn)}`;
}

/** The probe goes before the transaction ends: unlike the probe table, a temporary function lives as long as the session. */
export function dropProbeFunctionStatement(fn: NormalizeFunction): RawBuilder<unknown> {
  return sql`drop function pg_temp.${sql.raw(fn.name)}(text)`;
}

/**
 * PL/pgSQL, for a migration's DO block only: the function when it is not there yet.
 *
 * @example if pg_catalog.to_regprocedure('lead_dedupe.trim_v1(text)') is null then create function … end if
 */
export function createNormalizeFunctionIfMissingStatement(fn: NormalizeFunction): RawBuilder<unknown> {
  return sql`if pg_catalog.to_regprocedure(${sql.lit(`${normalizeFunctionName(fn)}(text)`)}) is null then
    ${createNormalizeFunctionStatement(fn)};
  end if`;
}

export interface NormalizeFunctionRow {
  name: string;
  /** Functions of this name in the tool's schema (any arguments). */
  count: number;
  /** The one function of this name is exactly the probe: same body, flags, argument and result. */
  same: boolean;
}

/**
 * What exists under each name, compared with the probe of the same name in
 * pg_temp (created just before, in the same transaction).
 */
export function normalizeFunctionStateQuery(names: string[]): RawBuilder<NormalizeFunctionRow> {
  return sql<NormalizeFunctionRow>`select u.name,
       (select pg_catalog.count(*)::int from pg_catalog.pg_proc f where f.proname = u.name and f.pronamespace = n.oid) as count,
       coalesce((select f.prokind = 'f' and f.prolang = p.prolang and f.prorettype = p.prorettype and f.proargtypes = p.proargtypes
                        and f.provolatile = p.provolatile and f.proparallel = p.proparallel and f.proisstrict = p.proisstrict
                        and not f.prosecdef and f.proconfig is null
                        and pg_catalog.pg_get_function_sqlbody(f.oid) = pg_catalog.pg_get_function_sqlbody(p.oid)
                 from pg_catalog.pg_proc f, pg_catalog.pg_proc p
                 where f.proname = u.name and f.pronamespace = n.oid
                   and p.proname = u.name and p.pronamespace = pg_catalog.pg_my_temp_schema()
                 limit 1), false) as same
from pg_catalog.unnest(${names}::text[]) as u(name)
left join pg_catalog.pg_namespace n on n.nspname = ${NORMALIZE_FUNCTION_SCHEMA}`;
}

/** Whether each function exists, without writing anything (a read-only session cannot create the probe). */
export function normalizeFunctionExistsQuery(names: string[]): RawBuilder<{ name: string; exists: boolean }> {
  return sql<{ name: string; exists: boolean }>`select u.name,
       exists (select from pg_catalog.pg_proc f join pg_catalog.pg_namespace n on n.oid = f.pronamespace
               where n.nspname = ${NORMALIZE_FUNCTION_SCHEMA} and f.proname = u.name) as exists
from pg_catalog.unnest(${names}::text[]) as u(name)`;
}
