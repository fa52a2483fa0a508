import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CompiledQuery } from 'kysely';
import type { TableDistribution } from '../../src/db/distribution.js';
import { notesReference as notes } from '../support/clean-fixtures.js';
import type { ChildReference, CleanOptions } from '../../src/clean/types.js';
import type { CleanContext } from '../../src/clean/context.js';
import type { PlanRun } from '../../src/clean/plan-file/plan-run.js';
import type { LockWatch } from '../../src/db/lock-waits.js';
import { RunState } from '../../src/clean/run-state.js';
import { attemptBatch } from '../../src/clean/batch-runner.js';
import { stageGroups } from '../../src/clean/apply-clean.js';
import { cleanDryRunQuery } from '../../src/clean/sql/preview-sql.js';
import { fakeKey, fakeTable, compileSql } from '../support/compile.js';
import { goldenText, recordingDb, type CannedAnswer } from '../support/recording-db.js';

/**
 * Golden SQL: every statement clean sends, in order, for fixed keys (one
 * server, Citus, Citus with batches pinned to a shard, applying a plan),
 * recorded from the real executor on a database that only records and
 * answers with canned rows. Any change to what clean sends shows as a diff
 * of test/unit/golden/clean/*.sql; UPDATE_GOLDEN=1 rewrites the files (review the diff).
 */

const ANSWERS: CannedAnswer[] = [
  { match: /as pin_values/, rows: [{ pin_values: ['dev-1', 'dev-2'], holds_chunks: true }] },
  {
    match: /^select group_id, reason from "pg_temp"."ld_skipped"/,
    rows: [{ group_id: 'g1', reason: 'unique index notes_uq on public.notes (lead_id, kind)' }],
  },
  { match: /as victims/, rows: [{ groups: 2, victims: 3, locked: 6 }] },
  { match: /^select count\(\*\) as groups from/, rows: [{ groups: 9 }] },
  { match: /as batches from "pg_temp"."ld_stage"$/, rows: [{ groups: 4, rows: 9, batches: 5 }] },
];

const parent: ChildReference = { ...notes, table: 'leads', column: 'parent_id', constraint: 'leads_parent_fk', self: true, notNull: true, uniqueIndexes: [] };
const deviceId = [{ child: 'device_id', parent: 'device_id' }];
/** A composite key (device_id, lead_id): the keeper's device_id is copied when the duplicate key does not hold it. */
const activities: ChildReference = {
  ...notes,
  table: 'activities',
  constraint: 'activities_fk',
  shared: deviceId,
  copied: deviceId,
  primaryKey: ['device_id', 'id'],
  uniqueIndexes: [],
};

function citus(column: string): TableDistribution {
  return { citusVersion: '13.2-1', kind: 'distributed', method: 'hash', column, shardCount: 32, colocatedChildren: [], coordinatorLeftoverBytes: 0 };
}

function context(distribution: TableDistribution | null, keyColumns: string[], references: ChildReference[]): CleanContext {
  const table = fakeTable(['id', 'device_id', 'phone', 'email', 'created_at', 'parent_id']);
  table.info.distribution = distribution;
  const options: CleanOptions = {
    key: fakeKey(table, keyColumns),
    keep: 'most-complete',
    mode: 'merge',
    mergeRules: {},
    batchSize: 100,
    batchRows: 1000,
    maxGroups: 50,
    pauseMs: 0,
    lockTimeoutMs: 2000,
    statementTimeoutMs: 30_000,
    archiveSchema: 'lead_dedupe',
    retries: 0,
    sampleGroups: 5,
  };
  return { options, references, mergeColumns: [{ name: 'email', isText: true, rule: 'newest' }], plan: null };
}

const idle: LockWatch = { last: () => [], clear: () => undefined, stop: () => undefined };

/** The run's staging, then its batch number 3 (0-based), as the executor sends them. */
async function cleanStatements(cleanContext: CleanContext): Promise<CompiledQuery[]> {
  const { db, sent } = recordingDb(ANSWERS);
  const run = new RunState(cleanContext, 7);
  if (cleanContext.plan === null) await stageGroups(db, db, run);
  run.batches = 5;
  const stopped = await attemptBatch({ connection: db, work: db }, run, 3, { hooks: {}, locks: idle });
  expect(stopped).toBe(false);
  return sent;
}

function expectGolden(name: string, text: string): void {
  const file = new URL(`golden/clean/${name}.sql`, import.meta.url);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, text);
  expect(existsSync(file), `${name}.sql: run with UPDATE_GOLDEN=1 once and review it`).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('golden SQL of clean --execute', () => {
  it('one server: stage, then a batch that locks, ranks, skips, merges, re-points three kinds of child and deletes, archiving each change', async () => {
    expectGolden('single-server', goldenText(await cleanStatements(context(null, ['device_id', 'phone'], [notes, parent, activities]))));
  });

  it('Citus, a key without the distribution column: the batch locks shard by shard, archives apart from each change, moves across shards by copy', async () => {
    const references = [
      { ...notes, distributionColumn: 'lead_id' },
      { ...activities, distributionColumn: 'device_id' },
    ];
    expectGolden('citus', goldenText(await cleanStatements(context(citus('id'), ['device_id', 'phone'], references))));
  });

  it('Citus, a key holding the distribution column: the stage is cut by shard and each batch is pinned to its distribution values', async () => {
    const colocated = { ...activities, copied: [], distributionColumn: 'device_id' };
    expectGolden('citus-pinned', goldenText(await cleanStatements(context(citus('device_id'), ['device_id', 'phone'], [notes, colocated]))));
  });

  it('a Citus cluster, the table a reference table: locked and ranked as on one server, each change archived apart', async () => {
    const reference: TableDistribution = { ...citus('id'), kind: 'reference', method: null, column: null, shardCount: 1 };
    expectGolden('citus-reference', goldenText(await cleanStatements(context(reference, ['device_id', 'phone'], [notes, parent, activities]))));
  });

  it("applying a plan: the batch locks the plan's rows and compares their fingerprints instead of ranking the current groups", async () => {
    const planned = context(null, ['device_id', 'phone'], [notes]);
    // only whether a plan is applied matters to the batch's statements; its contents were loaded before
    planned.plan = { source: null, loaded: null } as unknown as PlanRun;
    expectGolden('plan-apply', goldenText(await cleanStatements(planned)));
  });
});

describe('golden SQL of the clean preview (the dry run)', () => {
  it('one read-only SELECT', () => {
    const { key, keep, batchSize, batchRows, maxGroups, sampleGroups } = context(null, ['device_id', 'phone'], []).options;
    const settings = { key, keep, batchSize, batchRows, maxGroups, sampleGroups, references: [notes, parent, activities] };
    const compiled = compileSql(cleanDryRunQuery({ ...settings, mergeColumns: [{ name: 'email', isText: true, rule: 'newest' }] }));
    expectGolden('preview', goldenText([{ ...compiled, query: { kind: 'RawNode' } } as unknown as CompiledQuery]));
  });
});
