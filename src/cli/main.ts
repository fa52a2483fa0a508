import { CommanderError } from 'commander';
import { ExitCode, LeadDedupeError } from '../errors.js';
import { buildProgram } from './program.js';

/**
 * The one place that turns results and errors into exit codes and error
 * lines (README "Exit codes"); `process.exit` is called nowhere.
 */
export async function main(argv: string[]): Promise<ExitCode> {
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
  return error instanceof LeadDedupeError ? error.exitCode : ExitCode.runtime;
}

/** One line: PostgreSQL's SQLSTATE and message, or the error's own message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as { code?: unknown };
  const message = error.message.split('\n')[0] || error.name;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return `database error ${code}: ${message}`;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return `lost the database connection: ${message}`;
  return message;
}
