import type { Database, Db } from '../db/database.js';
import { rowNumber } from '../db/row-numbers.js';
import { requireColumn, qualifiedName } from '../db/catalog.js';
import { UsageError } from '../errors.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { suspectsQuery, suspectsSettingsStatements, truthPairsQuery } from './sql/suspects-sql.js';
import { openCursor } from '../db/cursor.js';
import { BEGIN_READ_ONLY_SNAPSHOT, inTransaction } from '../db/transaction.js';
import type { SuspectsConfig, SuspectsModel } from './model.js';
import { evaluate, type EvaluatedRow, type Evaluation } from './evaluate.js';
import { describeFunctions, resolveSuspectsModel } from './resolve-suspects.js';

export interface SuspectsOptions {
  /** The exact key: pairs it already groups are not suspects. */
  key: ResolvedKey;
  config: SuspectsConfig;
  columnMap: Record<string, string>;
  defaultCountry: string | null;
  /** Refuse (exit 2, nothing compared) when the blocks would give more candidate pairs. */
  maxPairs: number | null;
  /** A ground-truth column: report precision, recall and F1. */
  truthColumn: string | null;
}

export interface BlockCount {
  block: string;
  /** Candidate pairs the block gives (an upper bound for a one-edit block). */
  pairs: number;
}

export interface SuspectPair {
  a: string;
  b: string;
  score: number;
  /** Each comparator's outcome in words, "; "-separated. */
  reasons: string;
  /** The blocks that made the two rows candidates. */
  blocks: string[];
  /** The group: its smallest id. */
  group: string;
}

export interface SuspectGroup {
  group: string;
  ids: string[];
}

export interface SuspectsReport {
  table: string;
  key: string;
  threshold: number;
  functions: { nameSimilarity: string; accents: string };
  blockCounts: BlockCount[];
  /** Distinct candidate pairs, and those the exact key does not already group (compared). */
  candidates: number;
  compared: number;
  pairs: SuspectPair[];
  groups: SuspectGroup[];
  /** Stored values of every row in a pair, by id. */
  rows: Record<string, Record<string, unknown>>;
  evaluation: Evaluation | null;
  durationMs: number;
}

/**
 * Counts the candidate pairs per block (told to `onCounts` first), refuses
 * above maxPairs, then compares, scores and groups: one statement read
 * through a cursor, its first rows the counts, so the blocking pass runs
 * once and the comparison only when the counts pass.
 */
export async function suspects(
  database: Database,
  options: SuspectsOptions,
  onCounts: (counts: BlockCount[]) => void = () => undefined,
): Promise<SuspectsReport> {
  const started = performance.now();
  const { key } = options;
  const model = await resolveSuspectsModel(database.db, key, options.config, options);
  const truthColumn = options.truthColumn === null ? null : requireColumn(key.table.info, options.truthColumn, 'truth column').name;
  return database.db.connection().execute((db) =>
    inTransaction(
      db,
      async () => {
        for (const statement of suspectsSettingsStatements()) await statement.execute(db);
        const cursor = await openCursor(db, 'lead_dedupe_suspects', suspectsQuery(model));
        // the first rows are the blocks' counts: fetching them runs the blocking pass alone, nothing is compared yet
        const blockCounts = (await cursor.fetch(model.blocks.length)).map((row) => ({ block: row.block ?? '', pairs: rowNumber(row.block_pairs, 'pairs') }));
        onCounts(blockCounts);
        const total = blockCounts.reduce((sum, count) => sum + count.pairs, 0);
        if (options.maxPairs !== null && total > options.maxPairs) {
          throw new UsageError(
            `the blocks give ${total} candidate pairs (${blockCounts.map((c) => `${c.block}: ${c.pairs}`).join(', ')}), more than --max-pairs ${options.maxPairs}; narrow the blocks or raise --max-pairs; nothing was compared`,
          );
        }
        const rows = await cursor.fetch('all');
        await cursor.close();
        const pairs: SuspectPair[] = [];
        const members = new Map<string, Set<string>>();
        const stored: Record<string, Record<string, unknown>> = {};
        const evaluated = new Map<string, EvaluatedRow>();
        for (const row of rows) {
          if (row.a === null) continue;
          pairs.push({ a: row.a, b: row.b, score: Number(row.score), reasons: row.reasons, blocks: row.blocks, group: row.group_id });
          const group = members.get(row.group_id) ?? new Set<string>();
          group.add(row.a).add(row.b);
          members.set(row.group_id, group);
          stored[row.a] = row.a_row;
          stored[row.b] = row.b_row;
          if (truthColumn !== null) {
            evaluated.set(row.a, { truth: row.a_row[truthColumn] ?? null, key: row.a_key });
            evaluated.set(row.b, { truth: row.b_row[truthColumn] ?? null, key: row.b_key });
          }
        }
        const groups = [...members].map(([group, ids]) => ({ group, ids: [...ids].sort(byId) }));
        const evaluation = truthColumn === null ? null : evaluate(truthColumn, pairs, groups, evaluated, await countTruthPairs(db, model, truthColumn));
        return {
          table: qualifiedName(key.table.info),
          key: key.name,
          threshold: model.threshold,
          functions: describeFunctions(model.functions),
          blockCounts,
          candidates: rowNumber(rows[0]?.candidates, 'candidates'),
          compared: rowNumber(rows[0]?.compared, 'compared'),
          pairs,
          groups,
          rows: stored,
          evaluation,
          durationMs: Math.round(performance.now() - started),
        };
      },
      // one snapshot for the counts, the pairs and the truth totals (READ COMMITTED took one a statement)
      BEGIN_READ_ONLY_SNAPSHOT,
    ),
  );
}

async function countTruthPairs(db: Db, model: SuspectsModel, truthColumn: string): Promise<number> {
  return rowNumber((await truthPairsQuery(model, truthColumn).execute(db)).rows[0]?.pairs, 'pairs');
}

/** Numeric ids in numeric order, others as text. */
function byId(x: string, y: string): number {
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}
