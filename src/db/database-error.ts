/** What every caller needs to know about an error from pg or PGlite, in one place. */

/** PostgreSQL's SQLSTATE of a failed statement (e.g. 23505), or null for any other error. */
export function sqlStateOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** The first line of an error's message: messages for a terminal or a cron mail stay one line. */
export function firstLineOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] || error.name : String(error);
}

/** `database error 23505: … (Key (…)=(…) is duplicated.)` on one line. */
export function describeDatabaseError(error: unknown): string {
  const code = sqlStateOf(error);
  const detail = (error as { detail?: unknown } | null)?.detail;
  const message = firstLineOf(error);
  const withDetail = typeof detail === 'string' && detail !== '' ? `${message} (${detail.split('\n')[0]})` : message;
  return code === null ? withDetail : `database error ${code}: ${withDetail}`;
}
