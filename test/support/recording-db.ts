import {
  type CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { DynamicSchema } from '../../src/db/database.js';

/** A canned answer for the statements whose text matches: the rows it returns and the rows it says it changed. */
export interface CannedAnswer {
  match: RegExp;
  rows: Record<string, unknown>[];
}

/**
 * A Kysely that records every statement sent through it, compiled for
 * PostgreSQL, and answers from `answers` (the first match; else no rows and
 * `affected` rows changed). It lets a unit test run the real executor code
 * and write down exactly which statements it sends, in order (golden SQL).
 */
export function recordingDb(answers: CannedAnswer[], affected = 3n): { db: Kysely<DynamicSchema>; sent: CompiledQuery[] } {
  const sent: CompiledQuery[] = [];
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      sent.push(query);
      const answer = answers.find((candidate) => candidate.match.test(query.sql));
      return { rows: (answer?.rows ?? []) as R[], numAffectedRows: answer === undefined ? affected : undefined };
    },
    // biome-ignore lint/correctness/useYield: never streamed
    async *streamQuery() {
      throw new Error('the recording database does not stream');
    },
  };
  const driver: Driver = {
    init: async () => undefined,
    acquireConnection: async () => connection,
    beginTransaction: async () => undefined,
    commitTransaction: async () => undefined,
    rollbackTransaction: async () => undefined,
    releaseConnection: async () => undefined,
    destroy: async () => undefined,
  };
  const db = new Kysely<DynamicSchema>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  return { db, sent };
}

/** Statements as a golden file holds them: numbered, each with its parameters. */
export function goldenText(queries: readonly CompiledQuery[]): string {
  return queries
    .map((query, index) => {
      const parameters =
        query.parameters.length === 0
          ? ''
          : `\n-- parameters: ${JSON.stringify(query.parameters, (_, value) => (typeof value === 'bigint' ? value.toString() : value))}`;
      return `-- statement ${index + 1}\n${query.sql};${parameters}\n`;
    })
    .join('\n');
}
