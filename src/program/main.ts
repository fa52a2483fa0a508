import { CommanderError } from 'commander';
import { firstLineOf, sqlStateOf } from '../db/database-error.js';
import { ExitCode, LeadDedupeError } from '../errors.js';
import { buildProgram } from './program.js';

/**
 * The one place that turns results and errors into exit codes and error
 * lines (docs/exit-codes.md); `process.exit` is called nowhere.
 */
export async function main(argv: string[]): Promise<ExitCode> {
  // `lead-dedupe … | head`: once the reader is gone, the rest of the report has nowhere to go; that is no error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  const outcome = { code: ExitCode.ok as ExitCode };
  const program = buildProgram(async (action) => {
    outcome.code = await action();
  });
  try {
    await program.parseAsync(argv);
    return outcome.code;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    // commander has already printed its own one-line message
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (process.env.LEAD_DEDUPE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.stderr.write(`lead-dedupe: ${describeError(error)}\n`);
  // A suggested command on a line of its own, so that it is copied (and run) exactly as printed.
  if (error instanceof LeadDedupeError) for (const command of error.commands) process.stderr.write(`  ${command}\n`);
  return error instanceof LeadDedupeError ? error.exitCode : ExitCode.runtime;
}

/** One line: PostgreSQL's SQLSTATE and message, or the error's own message. */
export function describeError(error: unknown): string {
  const message = firstLineOf(error);
  const state = sqlStateOf(error);
  if (state !== null) return `database error ${state}: ${message}`;
  const { code } = (error ?? {}) as { code?: unknown };
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return `lost the database connection: ${message}`;
  return message;
}
