import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { CHECK_SESSION_SQL } from '../db/session-token.js';
import { qualifiedName } from '../db/catalog.js';
import { loadCleanContext } from './context.js';
import { choosePlacement, placeholderScope, type PlacementKind } from './placement.js';
import { batchScript, emptyTally, stagingScript, type Step } from './script.js';
import type { RunTotals } from './sql/run-log-sql.js';
import { stageSummaryQuery } from './sql/stage-sql.js';
import type { CleanOptions } from './types.js';

/** A statement as it is sent: its text and its parameters. */
export interface ScriptStatement {
  sql: string;
  parameters: readonly unknown[];
}

export interface ScriptStep {
  name: string;
  /** When the step runs, in words; null: always. */
  onlyWhen: string | null;
  statements: ScriptStatement[];
}

/** `clean --print-sql`: what a run sends, step by step, for its staging and its first batch. */
export interface CleanScript {
  table: string;
  key: string;
  placement: PlacementKind;
  archiveSchema: string;
  staging: ScriptStep[];
  batch: ScriptStep[];
}

/** The run id the printed statements carry: a run's id is only known once the run log records it. */
export const PRINTED_RUN_ID = 0;

/**
 * The statements `clean --execute` would send for its staging and its first
 * batch, built by the same script the run follows (script.ts), from the
 * catalog only: nothing is read from the table, nothing changes. Steps that
 * depend on what the batch finds (skipped groups, merged keepers) are all
 * listed, with the condition they run under.
 */
export async function cleanScript(database: Database, options: CleanOptions): Promise<CleanScript> {
  const context = await loadCleanContext(database, options);
  const placement = choosePlacement(options.key);
  const compile = <Tally>(steps: Step<Tally>[], tally: Tally): ScriptStep[] =>
    steps.map((step) => ({
      name: step.name,
      onlyWhen: step.onlyWhen ?? null,
      statements: step.statements(tally).map((statement) => {
        const compiled = statement.compile(database.db);
        return { sql: compiled.sql, parameters: compiled.parameters };
      }),
    }));
  const childRowsMoved = Object.fromEntries(context.references.map((reference) => [`${reference.schema}.${reference.table}`, 0]));
  const totals: RunTotals = { groupsPlanned: 0, groupsDone: 0, rowsRemoved: 0, rowsMerged: 0, groupsSkipped: 0, childRowsMoved, batchesDone: 0 };
  const staging = [...stagingScript(options), { name: 'stage:summary', statements: () => [stageSummaryQuery()] }];
  return {
    table: qualifiedName(options.key.table.info),
    key: options.key.name,
    placement: placement.kind,
    archiveSchema: options.archiveSchema,
    staging: compile(staging, { groupsTotal: null }),
    batch: compile(
      [...sessionCheck(database), ...batchScript({ context, placement, runId: PRINTED_RUN_ID, batch: 0 })],
      emptyTally(totals, placeholderScope(options.key)),
    ),
  };
}

/** A server transaction's first statement (db/transaction.ts): it runs on the server session the run set up. PGlite sends none. */
function sessionCheck(database: Database): Step<unknown>[] {
  return database.features.driver === 'postgres' ? [{ name: 'session', statements: () => [sql.raw(CHECK_SESSION_SQL)] }] : [];
}
