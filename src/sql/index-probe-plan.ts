import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { tableRef } from '../keys/key-sql.js';
import { indexElements, type ElementForm } from './constraint-plan.js';

/** The empty temporary copy of the table that key indexes are built on to read their definitions back. */
export const PROBE_TABLE = 'lead_dedupe_probe';

/** An empty temporary table with the leads table's columns, dropped at commit. */
export function probeTableStatement(table: LeadTable): RawBuilder<unknown> {
  return sql`create temporary table ${sql.id(PROBE_TABLE)} (like ${tableRef(table)}) on commit drop`;
}

/** The index `constraint add` would build for the key (or, `inline`, an earlier version built), on the probe table. */
export function probeIndexStatement(name: string, key: ResolvedKey, form: ElementForm = 'function'): RawBuilder<unknown> {
  return sql`create index ${sql.id(name)} on pg_temp.${sql.id(PROBE_TABLE)} (${sql.join(indexElements(key, form))})`;
}

/** Each probe index's elements as pg_get_indexdef prints them. */
export function probeIndexElementsQuery(): RawBuilder<{ name: string; elements: string[] }> {
  return sql<{ name: string; elements: string[] }>`
      select c.relname as name,
             array(select pg_catalog.pg_get_indexdef(i.indexrelid, k, true) from generate_series(1, i.indnkeyatts) as k order by k) as elements
      from pg_catalog.pg_index i
      join pg_catalog.pg_class c on c.oid = i.indexrelid
      where i.indrelid = ${sql.lit(`pg_temp.${PROBE_TABLE}`)}::regclass`;
}

/**
 * The read-only way to ask which unique indexes enforce a key: the plan of
 * INSERT … ON CONFLICT (key) names its arbiter indexes, and EXPLAIN without
 * ANALYZE writes nothing (it works on a hot standby). The target is the
 * inline form, which needs no function to exist: the planner inlines a
 * rule's function, so an index built with either form is inferred.
 */
export function arbiterPlanQuery(key: ResolvedKey): RawBuilder<{ 'QUERY PLAN': unknown }> {
  return sql<{ 'QUERY PLAN': unknown }>`explain (format json) insert into ${tableRef(key.table)} default values
on conflict (${sql.join(indexElements(key, 'inline'))}) do nothing`;
}

/** Column names as pg_get_indexdef prints them (quote_ident), in order. */
export function quotedNamesQuery(names: string[]): RawBuilder<{ quoted: string[] }> {
  return sql<{
    quoted: string[];
  }>`select array(select pg_catalog.quote_ident(n) from unnest(${names}::text[]) with ordinality as u(n, i) order by i) as quoted`;
}
