import type { LogEvent } from 'kysely';

/** The environment switch: LEAD_DEDUPE_LOG_SQL=1 logs every statement a command sends, with its duration, to stderr. */
export const LOG_SQL_VARIABLE = 'LEAD_DEDUPE_LOG_SQL';

/**
 * kysely's log hook, for the DBA who profiles a run: each statement once it
 * has run, as a script (its duration and parameters in a comment above it),
 * written through `write` (stderr); stdout keeps only the report.
 */
export function sqlLogger(write: (text: string) => void): (event: LogEvent) => void {
  return (event) => {
    const ms = event.queryDurationMillis.toFixed(1);
    const parameters = event.query.parameters.length === 0 ? '' : `, parameters ${JSON.stringify(event.query.parameters, jsonValue)}`;
    const outcome = event.level === 'error' ? `failed after ${ms} ms: ${String((event.error as { message?: unknown })?.message ?? event.error)}` : `${ms} ms`;
    write(`-- lead-dedupe sql: ${outcome}${parameters}\n${event.query.sql};\n`);
  };
}

export function logsSql(env: NodeJS.ProcessEnv): boolean {
  return env[LOG_SQL_VARIABLE] === '1';
}

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
