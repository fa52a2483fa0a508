import { DuplicatesFoundError } from '../../errors.js';

/** The pre-flight found duplicates (or one was written during the build): carries the figures for callers and tests. */
export class DuplicatesBlockConstraintError extends DuplicatesFoundError {
  constructor(
    message: string,
    readonly groups: number,
    readonly surplus: number,
    readonly cleanCommand: string,
  ) {
    super(message);
  }
}

/** PostgreSQL's SQLSTATE of a failed statement, when there is one. */
export function sqlStateOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** `database error 23505: … (Key (…)=(…) is duplicated.)` on one line. */
export function describeDatabaseError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = sqlStateOf(error);
  const detail = (error as { detail?: unknown }).detail;
  const message = error.message.split('\n')[0] ?? error.name;
  const withDetail = typeof detail === 'string' && detail !== '' ? `${message} (${detail.split('\n')[0]})` : message;
  return code === null ? withDetail : `database error ${code}: ${withDetail}`;
}
