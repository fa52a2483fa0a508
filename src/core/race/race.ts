import { randomBytes } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import { qualifiedName, requireColumn, resolveTableByName } from '../../db/catalog.js';
import type { Database, DynamicSchema } from '../../db/database.js';
import { requireWritable } from '../../db/read-only.js';
import { DatabaseError, UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { keyCommand, type CommandLineContext } from '../../keys/key-command-line.js';
import {
  checkLeadStatement,
  countScratchStatement,
  createSchemaStatement,
  createScratchStatement,
  dropScratchStatement,
  freeConnectionsStatement,
  insertLeadStatement,
  templateLeadStatement,
  truncateScratchStatement,
  type ScratchTable,
} from '../../sql/race-plan.js';
import type { OnDuplicate } from '../../sql/upsert-plan.js';
import { planUpsert, type UpsertOptions } from '../constraint/upsert.js';

export const RACE_LIMITS = { calls: 200, rounds: 100 } as const;

export interface RaceOptions {
  /** The key of the fix: the generated statement's conflict target. */
  key: ResolvedKey;
  /** The columns the application's check selects by today (the webhook: device_id, user_id, phone, niche). */
  checkColumns: string[];
  onDuplicate: OnDuplicate;
  /** As `sql upsert --insert-columns`; default: every column but the id and server-filled ones. */
  insertColumns?: string[];
  /** The rest of `sql upsert`'s policy options (--update-columns, --touch, --newer-column, --retry-on-other-index). */
  policy?: Pick<UpsertOptions, 'updateColumns' | 'touchColumns' | 'newerColumn' | 'retryOnOtherIndex'>;
  /** Concurrent identical calls per round (one connection each). */
  calls: number;
  rounds: number;
  /** No round starts after this much time has passed. */
  timeLimitMs: number;
  /** The tool's own schema, where the scratch table lives. */
  schema: string;
  /** Stops before the next round (SIGINT); the scratch table is dropped all the same. */
  stop?: AbortSignal;
  /** How the suggested `constraint add` reaches the same database; default: the same shell. */
  commandLine?: CommandLineContext;
}

export const RACE_PATHS = ['check-then-insert', 'generated statement'] as const;
export type RacePath = (typeof RACE_PATHS)[number];

export interface RacePathReport {
  path: RacePath;
  rounds: number;
  calls: number;
  /** Rows the path's calls stored, summed over the rounds (the proof wants one per round). */
  rowsCreated: number;
  /** Rows beyond the first per round: duplicates of the lead. */
  duplicates: number;
  /** Per outcome: inserted, existed (the check found it, or the statement's conflict), updated. */
  outcomes: Record<string, number>;
  /** Per SQLSTATE and message: errors a caller would have seen. */
  errors: Record<string, number>;
}

export interface RaceReport {
  table: string;
  /** Created, raced on and dropped; never the user's table. */
  scratchTable: string;
  key: string;
  checkColumns: string[];
  onDuplicate: OnDuplicate;
  /** The generated statement as run on the scratch table. */
  statement: string;
  /** No unique index of the table enforces the key: the statement fails (42P10) until this `constraint add` runs. */
  missingIndex: { addCommand: string } | null;
  callsPerRound: number;
  paths: RacePathReport[];
  elapsedMs: number;
  /** The generated statement stored one row per round, told one caller per round 'inserted' and the rest existed/updated, and no caller saw an error. */
  proven: boolean;
}

/**
 * Fires `calls` identical copies of one lead at once, per round, through the
 * application's check-then-insert and through the statement `sql upsert`
 * generates, on a scratch copy of the table's shape (same unique indexes) in
 * the tool's own schema; drops it afterwards whatever happens. Reads one row
 * of the user's table (the lead to send) and writes nothing there.
 */
export async function race(database: Database, options: RaceOptions): Promise<RaceReport> {
  requireWritable(database);
  if (database.features.driver !== 'postgres') throw new UsageError('race needs a PostgreSQL server: PGlite runs one session, so nothing can race');
  if (database.features.maxConcurrency < options.calls + 1) throw new UsageError(`race needs ${options.calls + 1} connections (calls + 1)`);
  const { key } = options;
  const table = key.table;
  for (const column of options.checkColumns) requireColumn(table.info, column, '--check-columns: column');
  // the pool holds one session already; the calls need the others
  const [capacity] = (await freeConnectionsStatement().execute(database.db)).rows;
  if (capacity !== undefined && capacity.free < options.calls) {
    throw new UsageError(`race needs ${options.calls} more connections (one per call) but the server has ${Math.max(0, capacity.free)} free: lower --calls`);
  }
  const started = Date.now();
  const scratch: ScratchTable = { schema: options.schema, name: `race_${randomBytes(4).toString('hex')}` };
  const db = database.db;
  await createSchemaStatement(scratch).execute(db);
  await createScratchStatement(scratch, table).execute(db);
  try {
    const info = await resolveTableByName(db, scratch.schema, scratch.name, { command: 'race', archiveSchema: '' });
    if (info === undefined) throw new Error(`internal: ${scratch.schema}.${scratch.name} vanished`);
    const scratchKey: ResolvedKey = { ...key, table: { ...table, info } };
    const plan = await planUpsert(database, { ...options.policy, key: scratchKey, onDuplicate: options.onDuplicate, insertColumns: options.insertColumns });
    const nonNull = [...new Set([...options.checkColumns, ...key.columns.map((c) => c.column)])];
    const missing = options.checkColumns.filter((column) => !plan.insertColumns.includes(column));
    if (missing.length > 0) throw new UsageError(`--insert-columns must include the checked columns; missing: ${missing.join(', ')}`);
    const { rows } = await templateLeadStatement(table, plan.insertColumns, nonNull).execute(db);
    const template = rows[0] as Record<string, unknown> | undefined;
    if (template === undefined) throw new UsageError(`${qualifiedName(table.info)} holds no row with ${nonNull.join(', ')} all set: race sends a copy of one`);
    const values = plan.insertColumns.map((column) => template[column]);
    const checkValues = options.checkColumns.map((column) => template[column]);

    const checkThenInsert = async (conn: Kysely<DynamicSchema>): Promise<string> => {
      const found = await checkLeadStatement(scratch, table.idColumn, options.checkColumns, checkValues).execute(conn);
      if (found.rows.length > 0) return 'existed';
      await insertLeadStatement(scratch, table.idColumn, plan.insertColumns, values).execute(conn);
      return 'inserted';
    };
    const generated = async (conn: Kysely<DynamicSchema>): Promise<string> => {
      const result = await conn.executeQuery<{ outcome?: string }>(CompiledQuery.raw(plan.sql, values));
      return result.rows[0]?.outcome ?? 'no row';
    };
    const paths: RacePathReport[] = [];
    for (const [path, call] of [
      ['check-then-insert', checkThenInsert],
      ['generated statement', generated],
    ] as const) {
      paths.push(await racePath(database, scratch, path, call, options, started));
    }
    const statementPath = paths[1]!;
    return {
      table: qualifiedName(table.info),
      scratchTable: `${scratch.schema}.${scratch.name}`,
      key: key.name,
      checkColumns: options.checkColumns,
      onDuplicate: options.onDuplicate,
      statement: plan.sql,
      missingIndex: plan.arbiters.length === 0 ? { addCommand: keyCommand(key, ['constraint', 'add'], [], options.commandLine) } : null,
      callsPerRound: options.calls,
      paths,
      elapsedMs: Date.now() - started,
      // one row and one 'inserted' per round, every other call told existed/updated, no error
      proven:
        statementPath.rounds > 0 &&
        statementPath.duplicates === 0 &&
        Object.keys(statementPath.errors).length === 0 &&
        statementPath.outcomes.inserted === statementPath.rounds &&
        Object.keys(statementPath.outcomes).every((outcome) => ['inserted', 'existed', 'updated'].includes(outcome)),
    };
  } finally {
    await dropScratchStatement(scratch).execute(db);
  }
}

async function racePath(
  database: Database,
  scratch: ScratchTable,
  path: RacePath,
  call: (conn: Kysely<DynamicSchema>) => Promise<string>,
  options: RaceOptions,
  started: number,
): Promise<RacePathReport> {
  const report: RacePathReport = { path, rounds: 0, calls: 0, rowsCreated: 0, duplicates: 0, outcomes: {}, errors: {} };
  for (let round = 1; round <= options.rounds; round++) {
    if (options.stop?.aborted || (round > 1 && Date.now() - started > options.timeLimitMs)) break;
    await truncateScratchStatement(scratch).execute(database.db);
    const outcomes = await together(database, options.calls, call);
    const [count] = (await countScratchStatement(scratch).execute(database.db)).rows;
    const stored = Number(count!.n);
    report.rounds++;
    report.calls += options.calls;
    report.rowsCreated += stored;
    report.duplicates += Math.max(0, stored - 1);
    for (const outcome of outcomes) {
      if (outcome.kind === 'ok') report.outcomes[outcome.value] = (report.outcomes[outcome.value] ?? 0) + 1;
      else report.errors[outcome.value] = (report.errors[outcome.value] ?? 0) + 1;
    }
  }
  return report;
}

type Outcome = { kind: 'ok'; value: string } | { kind: 'error'; value: string };

/**
 * Runs `call` on `calls` connections at once: each first takes its own
 * pooled session, then all wait on one gate, so the statements leave in one
 * burst and meet on the server, as concurrent webhook calls do.
 */
async function together(database: Database, calls: number, call: (conn: Kysely<DynamicSchema>) => Promise<string>): Promise<Outcome[]> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let ready = 0;
  let allReady!: () => void;
  const everyoneReady = new Promise<void>((resolve) => {
    allReady = resolve;
  });
  const running = Array.from({ length: calls }, () =>
    database.db.connection().execute(async (conn): Promise<Outcome> => {
      if (++ready === calls) allReady();
      await gate;
      try {
        return { kind: 'ok', value: await call(conn) };
      } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        return { kind: 'error', value: `${code ?? 'error'}: ${message ?? String(error)}` };
      }
    }),
  );
  // a session that cannot be opened (the server full after all) fails the race, after the others finish
  const failed = new Promise<void>((resolve) => {
    for (const call of running) call.catch(() => resolve());
  });
  await Promise.race([everyoneReady, failed]);
  open();
  const settled = await Promise.allSettled(running);
  const rejected = settled.find((result) => result.status === 'rejected');
  if (rejected !== undefined) {
    const { message } = rejected.reason as { message?: string };
    throw new DatabaseError(`race could not run its ${calls} concurrent calls: ${message ?? String(rejected.reason)}`);
  }
  return settled.map((result) => (result as PromiseFulfilledResult<Outcome>).value);
}
