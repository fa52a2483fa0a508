import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { duplicateGroupsQuery } from './duplicate-groups.js';

/**
 * Pure SQL for migration files (`constraint add --migration`). A migration
 * tool may run each statement on any pooled connection and outside any
 * transaction (CONCURRENTLY needs that), so every check and every step that
 * needs a transaction becomes one `DO` block: one statement, hence one
 * implicit transaction on whatever connection runs it, with no dependence on
 * psql, the tool or the driver. Names reach these bodies as string literals
 * (`sql.lit`), never as text pasted in.
 */

/** What the migration protects the key with: a table constraint or (normalised key) a unique expression index. */
export type MigrationTargetKind = 'constraint' | 'expression-index';

/** The relation's oid from its schema and name, as a subquery over the catalog. */
function tableOid(table: LeadTable): RawBuilder<unknown> {
  return sql`(select t.oid from pg_catalog.pg_class t join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
    where tn.nspname = ${sql.lit(table.info.schema)} and t.relname = ${sql.lit(table.info.name)})`;
}

/**
 * Runs before the invalid-leftover drop, which is `DROP INDEX CONCURRENTLY
 * IF EXISTS` (it cannot run inside a DO block, so it cannot test validity
 * itself): refuses when the name is anything but absent or an invalid index
 * on this table, so the drop never removes another table's index or a valid one.
 *
 * @example do $lead_dedupe$ declare lead_dedupe_found record; begin select … where n.nspname = 'public' and c.relname = 'leads_device_id_phone_key'; … end $lead_dedupe$
 */
export function nameGuardBody(table: LeadTable, name: string, kind: MigrationTargetKind): RawBuilder<unknown> {
  const where = `${table.info.schema}.${table.info.name}`;
  const foreign = `lead-dedupe: "${name}" in schema ${table.info.schema} is not an index on ${where}; choose another --name and generate the migration again`;
  const attached = `lead-dedupe: "${name}" on ${where} is already a constraint: this migration has been applied here`;
  const valid =
    kind === 'constraint'
      ? `lead-dedupe: the unique index "${name}" on ${where} is built and valid but not attached as a constraint (an earlier run stopped after the build): ` +
        `lead-dedupe constraint add --name ${name} attaches it; or drop it (DROP INDEX CONCURRENTLY) and run the migration again`
      : `lead-dedupe: the unique index "${name}" on ${where} exists and is valid: this migration has been applied here`;
  return sql`declare
  lead_dedupe_found record;
begin
  select i.indrelid, i.indisvalid,
         exists (select from pg_catalog.pg_constraint con where con.conindid = c.oid and con.conrelid = i.indrelid and con.contype in ('u', 'p', 'x')) as attached
    into lead_dedupe_found
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    left join pg_catalog.pg_index i on i.indexrelid = c.oid
   where n.nspname = ${sql.lit(table.info.schema)} and c.relname = ${sql.lit(name)};
  if not found then
    return;
  end if;
  if lead_dedupe_found.indrelid is distinct from ${tableOid(table)} then
    raise exception using message = ${sql.lit(foreign)};
  end if;
  if lead_dedupe_found.attached then
    raise exception using message = ${sql.lit(attached)};
  end if;
  if lead_dedupe_found.indisvalid then
    raise exception using message = ${sql.lit(valid)};
  end if;
end`;
}

/**
 * The pre-flight: counts the key's duplicate groups with the one definition
 * scan uses (duplicateGroupsQuery) and fails the migration with the count,
 * before anything is built.
 *
 * @example … raise exception 'lead-dedupe: % duplicate group(s) (% surplus row(s)) under key % on %; …', lead_dedupe_groups, lead_dedupe_surplus, 'device-phone', 'public.leads'; …
 */
export function preflightBody(key: ResolvedKey, cleanCommand: string): RawBuilder<unknown> {
  const message =
    'lead-dedupe: % duplicate group(s) (% surplus row(s)) under key % on %; a unique index cannot be built until they are removed: ' +
    'review the plan with %, then run it with --execute; nothing was built';
  return sql`declare
  lead_dedupe_groups bigint;
  lead_dedupe_surplus bigint;
begin
  select count(*), coalesce(sum(n - 1), 0) into lead_dedupe_groups, lead_dedupe_surplus
    from (${duplicateGroupsQuery(key)}) as duplicate_groups;
  if lead_dedupe_groups > 0 then
    raise exception ${sql.lit(message)}, lead_dedupe_groups, lead_dedupe_surplus, ${sql.lit(key.name)}, ${sql.lit(`${key.table.info.schema}.${key.table.info.name}`)}, ${sql.lit(cleanCommand)};
  end if;
end`;
}

/**
 * sqitch's verify script: fails unless the constraint (or the unique
 * expression index) is there and valid.
 */
export function verifyBody(table: LeadTable, name: string, kind: MigrationTargetKind): RawBuilder<unknown> {
  const what = kind === 'constraint' ? 'unique constraint' : 'valid unique index';
  const present =
    kind === 'constraint'
      ? sql`exists (select from pg_catalog.pg_constraint con join pg_catalog.pg_index i on i.indexrelid = con.conindid
      where con.conrelid = ${tableOid(table)} and con.conname = ${sql.lit(name)} and con.contype = 'u' and i.indisvalid)`
      : sql`exists (select from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
      where i.indrelid = ${tableOid(table)} and c.relname = ${sql.lit(name)} and i.indisunique and i.indisvalid)`;
  return sql`begin
  if not ${present} then
    raise exception using message = ${sql.lit(`lead-dedupe: no ${what} "${name}" on ${table.info.schema}.${table.info.name}`)};
  end if;
end`;
}

/** A step that needs a transaction (SET LOCAL, then the statement it guards) as the body of one DO block. */
export function transactionBody(statements: readonly string[]): string {
  return `begin\n${statements.map((statement) => `  ${statement};`).join('\n')}\nend`;
}

/**
 * `do $tag$ … $tag$` around a compiled body, with a dollar-quote tag that
 * does not occur in it (a column named `$lead_dedupe$` would otherwise end
 * the block early).
 */
export function doStatement(body: string): string {
  let tag = '$lead_dedupe$';
  for (let n = 1; body.includes(tag); n++) tag = `$lead_dedupe_${n}$`;
  return `do ${tag}\n${body}\n${tag}`;
}
