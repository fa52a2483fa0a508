import { qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { describeDatabaseError, sqlStateOf } from '../../db/database-error.js';
import type { UniqueIndexInfo } from '../../db/unique-indexes.js';
import { DatabaseError } from '../../errors.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { indexElements } from '../../sql/constraint-plan.js';
import { arbiterPlanQuery, quotedNamesQuery } from '../../sql/index-probe-plan.js';
import { keyForms, type NormalizeFunctionState } from './deparse-key.js';
import { keyNormalizeFunctions, type NormalizeFunction } from '../../keys/normalize-function.js';
import { normalizeFunctionExistsQuery } from '../../sql/normalize-function-plan.js';
import { impliedByIndexes, protectingIndexes } from './protection.js';

export interface KeyMatch {
  /** The key's index elements as PostgreSQL prints them (as pg_get_indexdef would), normalised columns through their rule's short function. */
  elements: string[];
  /** Every form an index enforcing the key may have, as printed: the short functions' (when they exist) and the inline expressions' of earlier versions. */
  forms: string[][];
  /** The valid unique constraints/indexes that enforce exactly the key, constraints first. */
  protecting: UniqueIndexInfo[];
  /** Valid unique indexes on fewer of the key's elements, which reject its duplicates too (protection.ts), smallest first. */
  impliedBy: UniqueIndexInfo[];
  /** The rule functions the key's normalised columns need, and whether each is there. */
  functions: { fn: NormalizeFunction; state: NormalizeFunctionState }[];
}

/**
 * Which of the table's unique indexes enforce each key. On a writable
 * connection the key's elements are deparsed by building them on an empty
 * temp copy (deparse-key.ts) and compared as text, in both forms a
 * normalised column may have been indexed in (the rule's short function, or
 * the inline expression earlier versions built). A hot standby or a
 * read-only session cannot create even a temp table, so there the server's
 * planner decides: `EXPLAIN INSERT … ON CONFLICT (<elements>) DO NOTHING`
 * lists the arbiter indexes, which ON CONFLICT infers by comparing the
 * expressions node by node (after inlining the rule functions), and EXPLAIN
 * (without ANALYZE) writes nothing and is allowed in a read-only
 * transaction. The catalog's flags (NULLS NOT DISTINCT, predicate,
 * deferrable, valid) are then checked as on a primary.
 */
export async function matchKeys(database: Database, table: LeadTable, keys: ResolvedKey[], indexes: UniqueIndexInfo[]): Promise<KeyMatch[]> {
  if (database.features.readOnly === null) {
    const forms = await keyForms(database, table, keys);
    return keys.map((key, index) => {
      const { elements, forms: keyForms, functions } = forms[index]!;
      return {
        elements,
        forms: keyForms,
        protecting: sortConstraintsFirst(unique(keyForms.flatMap((form) => protectingIndexes(indexes, form, key.nullsEqual)))),
        impliedBy: unique(keyForms.flatMap((form) => impliedByIndexes(indexes, form, key.nullsEqual))).sort(
          (a, b) => a.elements.length - b.elements.length || Number(a.constraint === null) - Number(b.constraint === null),
        ),
        functions,
      };
    });
  }
  const matches: KeyMatch[] = [];
  for (const key of keys) {
    const arbiters = await arbiterIndexes(database, key);
    const protecting = protectingIndexes(
      indexes.filter((index) => arbiters.includes(index.name)),
      null,
      key.nullsEqual,
    );
    // Read-only: a plain column's element is pg_get_indexdef's text, so a smaller index on plain columns is found; an expression only when it matched.
    const elements = await readOnlyElements(database, key, protecting);
    const fns = keyNormalizeFunctions(key);
    const { rows } = fns.length === 0 ? { rows: [] } : await normalizeFunctionExistsQuery(fns.map((fn) => fn.name)).execute(database.db);
    matches.push({
      elements,
      forms: [elements],
      protecting,
      impliedBy: impliedByIndexes(indexes, elements, key.nullsEqual),
      // Not compared with the tool's own definition here (that needs a temporary probe): named as there.
      functions: fns.map((fn) => ({ fn, state: rows.some((row) => row.name === fn.name && row.exists) ? 'same' : 'missing' })),
    });
  }
  return matches;
}

function unique(indexes: UniqueIndexInfo[]): UniqueIndexInfo[] {
  return indexes.filter((index, position) => indexes.findIndex((other) => other.name === index.name) === position);
}

function sortConstraintsFirst(indexes: UniqueIndexInfo[]): UniqueIndexInfo[] {
  return [...indexes].sort((a, b) => Number(a.constraint === null) - Number(b.constraint === null));
}

/** The unique indexes INSERT … ON CONFLICT (key) would use as arbiters: the server's own equivalence test. */
async function arbiterIndexes(database: Database, key: ResolvedKey): Promise<string[]> {
  try {
    const { rows } = await arbiterPlanQuery(key).execute(database.db);
    const raw = rows[0]?.['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan?: { 'Conflict Arbiter Indexes'?: string[] } }[];
    return plan[0]?.Plan?.['Conflict Arbiter Indexes'] ?? [];
  } catch (error) {
    const state = sqlStateOf(error);
    // 42P10: no unique index matches the key; 55000: only a DEFERRABLE one does, which cannot protect an upsert.
    if (state === '42P10' || state === '55000') return [];
    throw new DatabaseError(
      `on a read-only server lead-dedupe asks the planner which unique index enforces key ${key.name} (EXPLAIN INSERT … ON CONFLICT, ` +
        `which needs INSERT privilege on ${qualifiedName(key.table.info)}): ${describeDatabaseError(error)}`,
    );
  }
}

/**
 * The elements without deparsing: a plain column as quote_ident prints it
 * (exactly pg_get_indexdef's form); the one expression of a key that has
 * one, from an index that enforces it; otherwise our own SQL text (only shown, never compared).
 */
async function readOnlyElements(database: Database, key: ResolvedKey, protecting: UniqueIndexInfo[]): Promise<string[]> {
  const names = key.columns.map((column) => column.column);
  const { rows } = await quotedNamesQuery(names).execute(database.db);
  const quoted = rows[0]!.quoted;
  const expressions = key.columns.filter((column) => column.normalize !== null).length;
  const plain = new Set(key.columns.flatMap((column, index) => (column.normalize === null ? [quoted[index]!] : [])));
  const leftover = protecting[0]?.elements.filter((element) => !plain.has(element)) ?? [];
  const ours = indexElements(key).map((element) => element.compile(database.db).sql);
  return key.columns.map((column, index) => {
    if (column.normalize === null) return quoted[index]!;
    return expressions === 1 && leftover.length === 1 ? leftover[0]! : ours[index]!;
  });
}
