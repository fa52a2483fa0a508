import { sql, type RawBuilder } from 'kysely';
import type { LeadTable } from '../keys/key-definition.js';
import { columnRef, tableRef } from '../keys/key-sql.js';

/**
 * The statements of `lead-dedupe race`, in the order it runs them. The
 * scratch table is `<own schema>.race_<random>`; every other name was checked
 * against the catalog. Values travel as parameters.
 */

/** The scratch table's name in the tool's own schema. */
export interface ScratchTable {
  schema: string;
  name: string;
}

export function scratchRef(scratch: ScratchTable): RawBuilder<unknown> {
  return sql.id(scratch.schema, scratch.name);
}

export function createSchemaStatement(scratch: ScratchTable): RawBuilder<unknown> {
  return sql`create schema if not exists ${sql.id(scratch.schema)}`;
}

/**
 * The user's table's shape with its defaults, identity, generated columns,
 * CHECK and NOT NULL constraints and every index: unique ones included (so
 * the generated statement meets the same arbiters and the same other unique
 * indexes as in production), partial and expression ones as they are. Not
 * copied: rows, triggers, foreign keys (the race is about the unique indexes;
 * a foreign key would only need the referenced rows).
 *
 * @example create table "lead_dedupe"."race_1a2b3c4d" (like "public"."leads" including all)
 */
export function createScratchStatement(scratch: ScratchTable, table: LeadTable): RawBuilder<unknown> {
  return sql`create table ${scratchRef(scratch)} (like ${tableRef(table)} including all)`;
}

/**
 * The lead every call sends: the oldest row whose checked columns all hold a
 * value (a NULL never matches the check's `=` nor conflicts in a unique index).
 *
 * @example select "device_id", "phone" from "public"."leads" where "device_id" is not null and "phone" is not null order by "id" limit 1
 */
export function templateLeadStatement(table: LeadTable, insertColumns: string[], nonNullColumns: string[]): RawBuilder<unknown> {
  const present = sql.join(
    nonNullColumns.map((column) => sql`${columnRef(column)} is not null`),
    sql` and `,
  );
  return sql`select ${sql.join(insertColumns.map((column) => columnRef(column)))} from ${tableRef(table)} where ${present} order by ${columnRef(table.idColumn)} limit 1`;
}

/** The webhook today, step 1 (GetLeadByDeviceUserPhoneNiche): is a lead with these values stored? */
export function checkLeadStatement(scratch: ScratchTable, idColumn: string, checkColumns: string[], values: unknown[]): RawBuilder<unknown> {
  const match = sql.join(
    checkColumns.map((column, index) => sql`${columnRef(column)} = ${values[index]}`),
    sql` and `,
  );
  return sql`select ${columnRef(idColumn)} from ${scratchRef(scratch)} where ${match} limit 1`;
}

/** The webhook today, step 2: a plain insert. */
export function insertLeadStatement(scratch: ScratchTable, idColumn: string, insertColumns: string[], values: unknown[]): RawBuilder<unknown> {
  return sql`insert into ${scratchRef(scratch)} (${sql.join(insertColumns.map((column) => columnRef(column)))}) values (${sql.join(values)}) returning ${columnRef(idColumn)}`;
}

export function countScratchStatement(scratch: ScratchTable): RawBuilder<{ n: string }> {
  return sql<{ n: string }>`select count(*) as n from ${scratchRef(scratch)}`;
}

export function truncateScratchStatement(scratch: ScratchTable): RawBuilder<unknown> {
  return sql`truncate ${scratchRef(scratch)}`;
}

export function dropScratchStatement(scratch: ScratchTable): RawBuilder<unknown> {
  return sql`drop table if exists ${scratchRef(scratch)}`;
}

/**
 * Connections a new session could still open: max_connections less the
 * superuser reserve and the client sessions already there (race opens one
 * per call, and must not find out half-way).
 */
export function freeConnectionsStatement(): RawBuilder<{ free: number }> {
  return sql<{ free: number }>`select (pg_catalog.current_setting('max_connections')::int
  - pg_catalog.current_setting('superuser_reserved_connections')::int
  - (select count(*) from pg_catalog.pg_stat_activity where backend_type = 'client backend'))::int as free`;
}
