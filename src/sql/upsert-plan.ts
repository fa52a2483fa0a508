import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, tableRef } from '../keys/key-sql.js';
import { indexElements, type ElementForm } from './constraint-plan.js';

/**
 * What a webhook retry does to the stored lead (question 3 of the duplicate
 * analysis). No policy lets a NULL erase a stored value.
 * - skip: keep the stored lead as it is;
 * - fill: set only the columns the stored lead lacks (NULL there);
 * - overwrite: the retry's non-NULL values win;
 * - touch: bump the named timestamp (now) and counter (+1) columns;
 * - newer: take the retry's non-NULL values only when its timestamp column is later.
 */
export const RETRY_POLICIES = ['skip', 'fill', 'overwrite', 'touch', 'newer'] as const;
export type RetryPolicy = (typeof RETRY_POLICIES)[number];
/** The flag keeps its name (--on-duplicate); its values are the retry policies. */
export const ON_DUPLICATE = RETRY_POLICIES;
export type OnDuplicate = RetryPolicy;

/** The `outcome` column of every statement's one row. */
export const UPSERT_OUTCOMES = ['inserted', 'updated', 'existed'] as const;
export type UpsertOutcome = (typeof UPSERT_OUTCOMES)[number];

/** What a duplicate does to the stored row, with the columns each policy touches (validated by the core). */
export type PolicyAction =
  | { policy: 'skip' }
  | { policy: 'fill'; columns: string[] }
  | { policy: 'overwrite'; columns: string[] }
  | { policy: 'touch'; timestamps: { column: string; inserted: boolean }[]; counters: string[] }
  | { policy: 'newer'; column: string; columns: string[] };

export interface UpsertPlanOptions {
  action: PolicyAction;
  /** Columns the statement inserts, in table order; parameter $n is the n-th of them. */
  insertColumns: string[];
  /**
   * The arbiter's predicate when it is a partial unique index, exactly as the
   * catalog prints it (pg_get_expr): ON CONFLICT must repeat it to infer the
   * index. Catalog text, never user input.
   */
  predicate?: string | null;
  /**
   * false on a partitioned table, where RETURNING cannot read the system
   * column xmax ("cannot retrieve a system column in this context"): steps 2
   * and 3 then report updated/existed even for the row they insert after the
   * conflicting row was deleted between the steps. Default true.
   */
  xmax?: boolean;
  /**
   * The column the no-op update of step 3 sets to its stored value; default
   * the target's first column. Never a GENERATED ALWAYS identity column,
   * which an UPDATE may only set to DEFAULT.
   */
  keep?: string;
  /** How a normalised column is named in the conflict target (default the rule's short function); ON CONFLICT infers an index built with either. */
  conflictForm?: ElementForm;
}

/** The alias of the stored row in DO UPDATE (the table's own name could be `excluded`). */
const STORED = 'stored';

/**
 * The race-free replacement for the webhook's check-then-insert. `target` is
 * the key (or the arbiter's subset of it) whose index elements, spelled by
 * the key model, form the conflict target: the key's columns, or for a
 * normalised key the rule's short function `constraint add` indexes
 * (`lead_dedupe.e164_60_v1("phone")`), so PostgreSQL infers that index. One statement, one row back,
 * `id` and `outcome` ('inserted' | 'updated' | 'existed'), on every path:
 *
 * 1. `inserted`: INSERT … ON CONFLICT DO NOTHING without a target, so a
 *    conflict on any unique index is absorbed, never raised (a targeted
 *    ON CONFLICT checks other unique indexes with a plain unique check,
 *    which raises 23505 when two inserts race, issue 25).
 * 2. `updated` (not skip): only when step 1 inserted nothing, the same row
 *    with ON CONFLICT (<arbiter>) DO UPDATE under the policy. DO UPDATE
 *    locks and sees the latest committed row even when it was committed
 *    after this statement's snapshot (which a SELECT here would not see).
 *    A WHERE skips an update that would change nothing.
 * 3. `existing` (not touch, which always updates): when neither wrote, a
 *    no-op DO UPDATE (`set <key column> = stored.<key column>`) that
 *    returns the stored row's id for the same reason. It writes a row
 *    version (UPDATE triggers fire).
 *
 * `stored.xmax = 0` tells a row steps 2/3 inserted (only when the
 * conflicting row was deleted in between) from one they updated.
 *
 * @example skip, device-phone:
 *   with "inserted" as (insert into "public"."leads" ("device_id", "phone") values ($1, $2)
 *     on conflict do nothing returning "id"), "existing" as (insert … select $1, $2 where not exists (select from "inserted")
 *     on conflict ("device_id", "phone") do update set "device_id" = "stored"."device_id" returning …)
 *   select "id", 'inserted' as "outcome" from "inserted" union all select … from "existing"
 */
export function upsertStatement(target: ResolvedKey, options: UpsertPlanOptions): RawBuilder<unknown> {
  const table = target.table;
  const columns = sql.join(options.insertColumns.map((column) => columnRef(column)));
  // $1..$n are placeholders for the caller's driver, not values: raw text by design.
  const placeholders = sql.join(options.insertColumns.map((_, index) => sql.raw(`$${index + 1}`)));
  const stored = (column: string) => sql.id(STORED, column);
  const excluded = (column: string) => sql.id('excluded', column);
  const id = stored(table.idColumn);
  // A partial arbiter is inferred only when the statement repeats its predicate (catalog text, see UpsertPlanOptions).
  const where = options.predicate ? sql` where ${sql.raw(options.predicate)}` : sql``;
  const conflict = sql`on conflict (${sql.join(indexElements(target, options.conflictForm))})${where}`;
  const insertAgain = (guards: string[]) =>
    sql`insert into ${tableRef(table)} as ${sql.id(STORED)} (${columns})
  select ${placeholders} where ${sql.join(
    guards.map((guard) => sql`not exists (select from ${sql.id(guard)})`),
    sql` and `,
  )}
  ${conflict}`;
  const fresh = options.xmax === false ? sql`false` : sql`${stored('xmax')} = 0`;
  const returning = sql`returning ${id} as "id", ${fresh} as "fresh"`;

  const inserted = sql`"inserted" as (
  insert into ${tableRef(table)} (${columns})
  values (${placeholders})
  on conflict do nothing
  returning ${sql.id(table.idColumn)} as "id"
)`;
  // A no-op update of the stored row: the one way to read a row committed after the statement's snapshot.
  const kept = options.keep ?? target.columns[0]!.column;
  const existing = (guards: string[]) => sql`"existing" as (
  ${insertAgain(guards)} do update set ${columnRef(kept)} = ${stored(kept)}
  ${returning}
)`;
  const pick = (cte: string, otherwise: UpsertOutcome) =>
    sql`select "id", case when "fresh" then 'inserted' else ${sql.lit(otherwise)} end from ${sql.id(cte)}`;
  const first = sql`select "id", 'inserted' as "outcome" from "inserted"`;

  const { action } = options;
  if (action.policy === 'skip') {
    return sql`with ${inserted}, ${existing(['inserted'])}
${first}
union all ${pick('existing', 'existed')}`;
  }
  const update = updateClause(action, stored, excluded);
  const updated = sql`"updated" as (
  ${insertAgain(['inserted'])} do update set ${sql.join(update.assignments)}${
    update.when === null
      ? sql``
      : sql`
  where ${update.when}`
  }
  ${returning}
)`;
  if (update.when === null) {
    return sql`with ${inserted}, ${updated}
${first}
union all ${pick('updated', 'updated')}`;
  }
  return sql`with ${inserted}, ${updated}, ${existing(['inserted', 'updated'])}
${first}
union all ${pick('updated', 'updated')}
union all ${pick('existing', 'existed')}`;
}

type Ref = (column: string) => RawBuilder<unknown>;

/** The SET list of a policy, and the condition under which it changes anything (null: always). */
function updateClause(
  action: Exclude<PolicyAction, { policy: 'skip' }>,
  stored: Ref,
  excluded: Ref,
): { assignments: RawBuilder<unknown>[]; when: RawBuilder<unknown> | null } {
  const any = (conditions: RawBuilder<unknown>[]) => sql.join(conditions, sql` or `);
  switch (action.policy) {
    case 'fill':
      return {
        assignments: action.columns.map((c) => sql`${columnRef(c)} = coalesce(${stored(c)}, ${excluded(c)})`),
        when: any(action.columns.map((c) => sql`(${stored(c)} is null and ${excluded(c)} is not null)`)),
      };
    case 'overwrite':
      return {
        assignments: action.columns.map((c) => sql`${columnRef(c)} = coalesce(${excluded(c)}, ${stored(c)})`),
        when: any(action.columns.map((c) => sql`(${excluded(c)} is not null and ${excluded(c)} is distinct from ${stored(c)})`)),
      };
    case 'touch':
      return {
        assignments: [
          ...action.timestamps.map(({ column, inserted }) =>
            inserted ? sql`${columnRef(column)} = coalesce(${excluded(column)}, now())` : sql`${columnRef(column)} = now()`,
          ),
          ...action.counters.map((c) => sql`${columnRef(c)} = coalesce(${stored(c)}, 0) + 1`),
        ],
        when: null,
      };
    case 'newer': {
      const ts = action.column;
      return {
        assignments: [sql`${columnRef(ts)} = ${excluded(ts)}`, ...action.columns.map((c) => sql`${columnRef(c)} = coalesce(${excluded(c)}, ${stored(c)})`)],
        when: sql`${excluded(ts)} > ${stored(ts)} or (${stored(ts)} is null and ${excluded(ts)} is not null)`,
      };
    }
    default:
      return action satisfies never;
  }
}

/** The plan of a printed statement ($1..$n bound at execution): whether PostgreSQL infers its arbiter, without running it. */
export function explainStatement(statement: string): string {
  return `explain ${statement}`;
}
