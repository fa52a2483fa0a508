import { join } from 'shlex';
import { invocationWords } from './invocation.js';
import { startSpinner } from './spinner.js';
import { once } from 'node:events';
import { openAtomicFile, writeFileAtomically } from './atomic-file.js';
import { describeTarget, type DatabaseTarget } from '../db/database-target.js';
import type { RenderContext } from '../render/common/render-as.js';
import { describeBlockers, type LockBlocker } from '../db/lock-waits.js';

/** Narrower than this, no table or sentence reads well; wider is the user's choice. */
const MIN_WIDTH = 40;

/**
 * The one place a report's width and JSON metadata are decided. The width follows psql: $COLUMNS
 * when set (scripts, tests, `COLUMNS=80 lead-dedupe scan | less`), else the terminal's width when
 * the report goes to one, else none at all (Infinity: a pipe, a file or cron mail gets tables at
 * their natural width and prose unwrapped, for `less -S` or the mail reader to lay out).
 */
export function renderContext(target: DatabaseTarget, flags: { output?: string } = {}): RenderContext {
  return { width: reportWidth(flags), generatedAt: new Date().toISOString(), database: describeTarget(target), invocation: join(invocationWords()) };
}

function reportWidth(flags: { output?: string }): number {
  const fromEnv = Number(process.env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return Math.max(MIN_WIDTH, fromEnv);
  const toTerminal = (flags.output === undefined || flags.output === '-') && process.stdout.isTTY && process.stdout.columns > 0;
  return toTerminal ? Math.max(MIN_WIDTH, process.stdout.columns) : Number.POSITIVE_INFINITY;
}

/**
 * stdout carries only the report; --output sends it to a file instead,
 * replaced whole or not at all (a FileWriteError, exit 1, if that fails).
 */
export async function writeReport(text: string, flags: { output?: string; quiet?: boolean }): Promise<void> {
  if (flags.output !== undefined && flags.output !== '-') {
    await writeFileAtomically(flags.output, text, '--output');
    return;
  }
  if (!flags.quiet) process.stdout.write(text);
}

/** A report written piece by piece as it is rendered (render/common/streamed-report.ts). */
export interface ReportStream {
  /** Waits while the file or pipe is behind (back-pressure): memory holds what one write carries. */
  write(text: string): Promise<void>;
  /** The report is complete: --output's temporary file is renamed into place. */
  commit(): Promise<void>;
  /** It failed: --output's temporary file is removed (stdout keeps what it was sent); returns the error to report. */
  discard(cause: unknown): Promise<unknown>;
  /** What a failure leaves: 'nothing was written', or that stdout holds part of the report. */
  outcome(): string;
}

/**
 * As writeReport, for a report too large to hold as one string: --output
 * gets it whole or not at all (cli/atomic-file.ts); stdout gets each piece as
 * it comes, so a run that fails midway leaves a partial report there, and its
 * exit code says so; --quiet without --output writes nothing.
 */
export async function openReportStream(flags: { output?: string; quiet?: boolean }): Promise<ReportStream> {
  const path = flags.output ?? '-';
  const nothing = () => 'nothing was written';
  if (path === '-' && flags.quiet) return { write: async () => undefined, commit: async () => undefined, discard: async (cause) => cause, outcome: nothing };
  const file = await openAtomicFile(path, '--output');
  let sent = false;
  return {
    async write(text) {
      if (text === '') return;
      sent = true;
      if (!file.stream.write(text)) await once(file.stream, 'drain');
    },
    commit: () => file.commit(),
    discard: (cause) => file.discard(cause),
    outcome: () => (path === '-' && sent ? 'the report on stdout is incomplete' : nothing()),
  };
}

/** A one-line note for a person (stderr), never mixed into the report. */
export function note(text: string, flags: { quiet?: boolean }): void {
  if (!flags.quiet) process.stderr.write(`${text}\n`);
}

/**
 * Runs `task` under a spinner with elapsed seconds, on stderr and only on a
 * terminal that can show it: cron mail and pipes get nothing but the report.
 */
export async function withSpinner<T>(label: string, flags: { quiet?: boolean }, task: (status: (text: string | null) => void) => Promise<T>): Promise<T> {
  const spinner = await startSpinner(label, flags);
  if (spinner === null) return task(() => undefined);
  const started = Date.now();
  // `status`: what the task waits for (a lock holder), shown after the elapsed time until it says null.
  let status: string | null = null;
  const draw = () => spinner.update(`${label} ${Math.round((Date.now() - started) / 1000)} s${status === null ? '' : ` · ${status}`}`);
  const timer = setInterval(draw, 1000);
  try {
    return await task((text) => {
      status = text;
      draw();
    });
  } finally {
    clearInterval(timer);
    spinner.stop();
  }
}

/** The spinner's words for a lock wait (db/lock-waits.ts); null once it no longer waits. */
export function lockWaitStatus(blockers: readonly LockBlocker[]): string | null {
  return blockers.length === 0 ? null : `waiting for a lock held by ${describeBlockers(blockers)}`;
}
