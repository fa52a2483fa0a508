import type { Database, Db } from '../db/database.js';
import { rowNumber } from '../db/row-numbers.js';
import { requireColumn, qualifiedName } from '../db/catalog.js';
import { UsageError } from '../errors.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { suspectsQuery, suspectsSettingsStatements, truthPairsQuery, type SuspectsRow } from './sql/suspects-sql.js';
import { openCursor } from '../db/cursor.js';
import { BEGIN_READ_ONLY_SNAPSHOT, inTransaction } from '../db/transaction.js';
import type { SuspectsConfig, SuspectsModel } from './model.js';
import { EvaluationTally, type Evaluation } from './evaluate.js';
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
}

/** Rows linked by suspect pairs (a connected component), with its pairs and each row's stored values. */
export interface SuspectGroup {
  /** Its smallest id. */
  group: string;
  ids: string[];
  pairs: SuspectPair[];
  /** Stored values of each row, by id. */
  rows: Record<string, Record<string, unknown>>;
}

/** What is known once the comparison returns its first rows, before any group. */
export interface SuspectsHeader {
  table: string;
  key: string;
  threshold: number;
  functions: { nameSimilarity: string; accents: string };
  /** The table's columns, in order: the stored values each row carries. */
  columns: string[];
  blockCounts: BlockCount[];
  /** Distinct candidate pairs, and those the exact key does not already group (compared). */
  candidates: number;
  compared: number;
}

/** What is known after the last group. */
export interface SuspectsSummary {
  pairCount: number;
  groupCount: number;
  evaluation: Evaluation | null;
  durationMs: number;
}

/** Everything at once (report --suspects); suspects itself streams the groups (SuspectsSink). */
export type SuspectsReport = SuspectsHeader & { groups: SuspectGroup[] } & SuspectsSummary;

/** Where findSuspects hands what it reads, in this order: the counts, the header, the groups batch by batch. */
export interface SuspectsSink {
  /** The blocks' candidate pairs, before anything is compared (and before a --max-pairs refusal). */
  counts?(counts: BlockCount[]): void;
  start(header: SuspectsHeader): Promise<void>;
  /** Complete groups, in group order (a batch may hold none). */
  groups(groups: SuspectGroup[]): Promise<void>;
}

/** Pair rows fetched per round trip: memory holds one batch and the group it ends in, whatever the table's size. */
const FETCH_ROWS = 2000;

/**
 * Counts the candidate pairs per block (told to `sink.counts` first),
 * refuses above maxPairs, then compares, scores and groups: one statement
 * read through a cursor, its first rows the counts, so the blocking pass
 * runs once and the comparison only when the counts pass. The pairs come
 * ordered by group and go to `sink` group by group as they are fetched.
 */
export async function findSuspects(database: Database, options: SuspectsOptions, sink: SuspectsSink): Promise<SuspectsSummary> {
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
        sink.counts?.(blockCounts);
        const total = blockCounts.reduce((sum, count) => sum + count.pairs, 0);
        if (options.maxPairs !== null && total > options.maxPairs) {
          throw new UsageError(
            `the blocks give ${total} candidate pairs (${blockCounts.map((c) => `${c.block}: ${c.pairs}`).join(', ')}), more than --max-pairs ${options.maxPairs}; narrow the blocks or raise --max-pairs; nothing was compared`,
          );
        }
        const tally = truthColumn === null ? null : new EvaluationTally(truthColumn);
        const groups = new GroupAssembler(tally);
        let rows = await cursor.fetch(FETCH_ROWS);
        // every row after the counts carries the totals (a lone row of NULL pair when no pair is a suspect)
        await sink.start({
          table: qualifiedName(key.table.info),
          key: key.name,
          threshold: model.threshold,
          functions: describeFunctions(model.functions),
          columns: key.table.info.columns.map((column) => column.name),
          blockCounts,
          candidates: rowNumber(rows[0]?.candidates, 'candidates'),
          compared: rowNumber(rows[0]?.compared, 'compared'),
        });
        while (rows.length > 0) {
          await sink.groups(groups.add(rows));
          rows = await cursor.fetch(FETCH_ROWS);
        }
        await cursor.close();
        await sink.groups(groups.finish());
        return {
          pairCount: groups.pairCount,
          groupCount: groups.groupCount,
          evaluation: tally === null ? null : tally.result(await countTruthPairs(db, model, tally.truthColumn)),
          durationMs: Math.round(performance.now() - started),
        };
      },
      // one snapshot for the counts, the pairs and the truth totals (READ COMMITTED took one a statement)
      BEGIN_READ_ONLY_SNAPSHOT,
    ),
  );
}

/** findSuspects with every group kept: for the HTML report and tests, not for tables of any size. */
export async function collectSuspects(database: Database, options: SuspectsOptions, onCounts?: (counts: BlockCount[]) => void): Promise<SuspectsReport> {
  let header: SuspectsHeader | null = null;
  const groups: SuspectGroup[] = [];
  const summary = await findSuspects(database, options, {
    counts: onCounts,
    start: async (known) => {
      header = known;
    },
    groups: async (batch) => {
      groups.push(...batch);
    },
  });
  return { ...header!, groups, ...summary };
}

/**
 * Pair rows (ordered by group, then pair) into complete groups: a group is
 * handed on when the next group's first pair arrives, or at the end.
 */
class GroupAssembler {
  pairCount = 0;
  groupCount = 0;
  private open: SuspectGroup | null = null;
  /** Each open row's truth and key (with a truth column), dropped with its group. */
  private truths = new Map<string, { truth: unknown; key: string | null }>();

  constructor(private readonly evaluation: EvaluationTally | null) {}

  add(rows: readonly SuspectsRow[]): SuspectGroup[] {
    const done: SuspectGroup[] = [];
    for (const row of rows) {
      if (row.a === null) continue;
      if (this.open !== null && this.open.group !== row.group_id) done.push(this.close(this.open));
      // no prototype: an id such as `__proto__` must be an own key like any other (rows[id] = …)
      this.open ??= { group: row.group_id, ids: [], pairs: [], rows: Object.create(null) as SuspectGroup['rows'] };
      this.open.pairs.push({ a: row.a, b: row.b, score: Number(row.score), reasons: row.reasons, blocks: row.blocks });
      this.open.rows[row.a] = row.a_row;
      this.open.rows[row.b] = row.b_row;
      if (this.evaluation !== null) {
        const column = this.evaluation.truthColumn;
        this.truths.set(row.a, { truth: row.a_row[column] ?? null, key: row.a_key });
        this.truths.set(row.b, { truth: row.b_row[column] ?? null, key: row.b_key });
      }
    }
    return done;
  }

  finish(): SuspectGroup[] {
    return this.open === null ? [] : [this.close(this.open)];
  }

  private close(group: SuspectGroup): SuspectGroup {
    this.open = null;
    group.ids = Object.keys(group.rows).sort(byId);
    this.pairCount += group.pairs.length;
    this.groupCount++;
    if (this.evaluation !== null) {
      this.evaluation.add(group, this.truths);
      this.truths.clear();
    }
    return group;
  }
}

async function countTruthPairs(db: Db, model: SuspectsModel, truthColumn: string): Promise<number> {
  return rowNumber((await truthPairsQuery(model, truthColumn).execute(db)).rows[0]?.pairs, 'pairs');
}

/** Numeric ids in numeric order, others as text. */
function byId(x: string, y: string): number {
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}
