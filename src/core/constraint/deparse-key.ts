import type { Database } from '../../db/database.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import {
  keyNormalizeFunctions,
  NORMALIZE_FUNCTION_MIN_SERVER,
  normalizeFunctionFor,
  normalizeFunctionName,
  type NormalizeFunction,
} from '../../keys/normalize-function.js';
import { PROBE_TABLE, probeIndexElementsQuery, probeIndexStatement, probeTableStatement, quotedNamesQuery } from '../../sql/index-probe-plan.js';
import { isPlainKey } from '../../sql/constraint-plan.js';
import { createNormalizeFunctionStatement, dropProbeFunctionStatement, normalizeFunctionStateQuery } from '../../sql/normalize-function-plan.js';

/** missing: nothing by that name; same: exactly the tool's function; different: something else holds the name (never replaced). */
export type NormalizeFunctionState = 'missing' | 'same' | 'different';

export interface DeparsedKey {
  /** The elements with the rule's short functions; null while a function the key needs is not there (exactly). */
  short: string[] | null;
  /** The elements with the expressions inline, as earlier versions built them (and what scan computes). */
  inline: string[];
}

export interface DeparsedKeys {
  keys: DeparsedKey[];
  /** By function name (e.g. e164_60_v1). */
  functions: Map<string, NormalizeFunctionState>;
}

/**
 * Each key's index elements as PostgreSQL itself prints them
 * (pg_get_indexdef), so they compare as text with the elements of existing
 * indexes: the server adds casts and parentheses of its own
 * (`'[^0-9]'::text`), which no hand-written normaliser would reproduce.
 * The index is built on an empty temporary copy of the table's columns,
 * dropped at commit: nothing is left behind and the real table is not locked.
 * Each rule function the keys use is compared with a probe of the same
 * name created in pg_temp (and dropped again).
 */
export async function deparseKeyElements(database: Database, table: LeadTable, keys: ResolvedKey[]): Promise<DeparsedKeys> {
  const functions = new Map<string, NormalizeFunctionState>();
  if (keys.length === 0) return { keys: [], functions };
  const needed = keys.flatMap(keyNormalizeFunctions).filter((fn, index, all) => all.findIndex((other) => other.name === fn.name) === index);
  const probeFunctions = needed.length > 0 && database.features.serverVersionNum >= NORMALIZE_FUNCTION_MIN_SERVER;
  return database.db.transaction().execute(async (trx) => {
    await probeTableStatement(table).execute(trx);
    if (probeFunctions) {
      for (const fn of needed) await createNormalizeFunctionStatement(fn, 'probe').execute(trx);
      const { rows } = await normalizeFunctionStateQuery(needed.map((fn) => fn.name)).execute(trx);
      for (const row of rows) functions.set(row.name, row.count === 0 ? 'missing' : row.count === 1 && row.same ? 'same' : 'different');
      for (const fn of needed) await dropProbeFunctionStatement(fn).execute(trx);
    } else {
      for (const fn of needed) functions.set(fn.name, 'missing');
    }
    const ready = keys.map((key) => keyNormalizeFunctions(key).every((fn) => functions.get(fn.name) === 'same'));
    for (const [index, key] of keys.entries()) {
      await probeIndexStatement(`${PROBE_TABLE}_${index + 1}_i`, key, 'inline').execute(trx);
      if (ready[index]) await probeIndexStatement(`${PROBE_TABLE}_${index + 1}_s`, key, 'function').execute(trx);
    }
    const { rows } = await probeIndexElementsQuery().execute(trx);
    const elementsOf = (name: string) => rows.find((row) => row.name === name)?.elements ?? null;
    return {
      keys: keys.map((_, index) => ({ inline: elementsOf(`${PROBE_TABLE}_${index + 1}_i`)!, short: elementsOf(`${PROBE_TABLE}_${index + 1}_s`) })),
      functions,
    };
  });
}

export interface KeyForms {
  /** The elements `constraint add` / `index add` build (and print), as pg_get_indexdef prints them. */
  elements: string[];
  /** Every form an index on the key may have been built in: the short functions' (when they exist exactly) and the inline expressions'. */
  forms: string[][];
  functions: { fn: NormalizeFunction; state: NormalizeFunctionState }[];
}

/**
 * deparseKeyElements, shaped for matching: the elements to show and every form to compare with. A key of plain
 * columns skips the probe (a temporary table, an index per form, six round trips): pg_get_indexdef prints a plain
 * column as quote_identifier does, which is quote_ident's text, and it has no function to compare.
 */
export async function keyForms(database: Database, table: LeadTable, keys: ResolvedKey[]): Promise<KeyForms[]> {
  const withExpressions = keys.filter((key) => !isPlainKey(key));
  const deparsed = await deparseKeyElements(database, table, withExpressions);
  const quoted = await quotedColumns(database, keys);
  return keys.map((key) => {
    const position = withExpressions.indexOf(key);
    if (position === -1) {
      const elements = key.columns.map((column) => quoted.get(column.column)!);
      return { elements, forms: [elements], functions: [] };
    }
    const { short, inline } = deparsed.keys[position]!;
    return {
      elements: short ?? predictedShort(key, inline, quoted),
      forms: short === null ? [inline] : [short, inline],
      functions: keyNormalizeFunctions(key).map((fn) => ({ fn, state: deparsed.functions.get(fn.name) ?? 'missing' })),
    };
  });
}

async function quotedColumns(database: Database, keys: ResolvedKey[]): Promise<Map<string, string>> {
  const names = [...new Set(keys.flatMap((key) => key.columns.map((column) => column.column)))];
  if (names.length === 0) return new Map();
  const { rows } = await quotedNamesQuery(names).execute(database.db);
  return new Map(names.map((name, index) => [name, rows[0]!.quoted[index]!]));
}

/**
 * The short form as pg_get_indexdef will print it once the function exists
 * (it does not yet: `constraint add` / `index add` create it): the call, its
 * argument cast to text unless the column is text already.
 */
function predictedShort(key: ResolvedKey, inline: string[], quoted: Map<string, string>): string[] {
  return key.columns.map((column, index) => {
    if (column.normalize === null) return inline[index]!;
    const name = quoted.get(column.column)!;
    const type = key.table.info.columns.find((c) => c.name === column.column)?.type;
    return `${normalizeFunctionName(normalizeFunctionFor(column.normalize, key.callingCode))}(${type === 'text' ? name : `(${name})::text`})`;
  });
}
