/** Milliseconds in the largest unit that holds them exactly, as PostgreSQL's settings take them: 5000 → '5s', 60000 → '1min'. */
export function pgDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
