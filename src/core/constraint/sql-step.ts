import type { RawBuilder } from 'kysely';
import type { Database } from '../../db/database.js';
import { InterruptedError } from '../../errors.js';

export interface PlannedStatement {
  query: RawBuilder<unknown>;
  /** The compiled text, as --print-sql and dry runs show it; the same text runs. */
  sql: string;
}

/** Statements that run together: in one transaction, or each on its own outside any. */
export interface SqlStep {
  /** true: BEGIN … COMMIT (SET LOCAL needs one); false: outside any transaction block (CONCURRENTLY refuses to run in one). */
  transaction: boolean;
  statements: PlannedStatement[];
}

export function planStatement(database: Database, query: RawBuilder<unknown>): PlannedStatement {
  return { query, sql: query.compile(database.db).sql };
}

/** Runs a step; once `stop` has aborted, no further statement of it starts (the one running is cancelled by the caller: Database.cancel). */
export async function runStep(database: Database, step: SqlStep, stop?: AbortSignal): Promise<void> {
  const refuseIfStopped = () => {
    if (stop?.aborted) throw new InterruptedError('stopped by a signal');
  };
  if (step.transaction) {
    await database.db.transaction().execute(async (trx) => {
      for (const statement of step.statements) {
        refuseIfStopped();
        await statement.query.execute(trx);
      }
    });
    return;
  }
  for (const statement of step.statements) {
    refuseIfStopped();
    await statement.query.execute(database.db);
  }
}
