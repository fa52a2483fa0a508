import { UsageError } from '../../errors.js';

/** PostgreSQL's int4 maximum: every count that reaches SQL as a LIMIT, batch number or array bound fits it. */
export const MAX_INT4 = 2_147_483_647;

export interface WholeRange {
  min: number;
  max: number;
}

/**
 * The range of every whole-number flag (docs/keys.md documents them). Counts that
 * reach SQL stay within int4; retries and jobs are capped where more would
 * only mean waiting (backoff doubles per retry) or opening idle connections.
 */
export const WHOLE_RANGES = {
  batchSize: { min: 1, max: MAX_INT4 },
  /** 2 at least: a chunk of a large group is its keeper plus batchRows - 1 others. */
  batchRows: { min: 2, max: MAX_INT4 },
  maxGroups: { min: 1, max: MAX_INT4 },
  sample: { min: 0, max: MAX_INT4 },
  top: { min: 0, max: MAX_INT4 },
  limit: { min: 1, max: MAX_INT4 },
  retries: { min: 0, max: 100 },
  jobs: { min: 1, max: 100 },
  seedRows: { min: 100, max: 100_000_000 },
  /** seed --random-state: folded into every draw's salt (×1000), which stays far inside int8. */
  randomState: { min: 0, max: 1_000_000 },
  /** suspects --max-pairs: candidate pairs counted before comparing. */
  maxPairs: { min: 1, max: Number.MAX_SAFE_INTEGER },
  /** diagnose's trend: at most a century of days. */
  days: { min: 1, max: 36_500 },
  /** scan --max-surplus: any count of rows a table can hold. */
  maxSurplus: { min: 0, max: Number.MAX_SAFE_INTEGER },
  /** Run ids are bigint; past 2^53 a JavaScript number would no longer hold them exactly. */
  runId: { min: 1, max: Number.MAX_SAFE_INTEGER },
} satisfies Record<string, WholeRange>;

/**
 * The one parser of whole numbers, for flags (text) and the config file
 * (JSON numbers or text): ASCII digits only, within the flag's range, else
 * a one-line usage error naming the range.
 */
export function parseWholeNumber(value: unknown, flag: string, range: WholeRange): number {
  const number = wholeValue(value);
  if (number === null || number < range.min || number > range.max) {
    throw new UsageError(`${flag} takes a whole number from ${range.min} to ${range.max}; got ${shown(value)}`);
  }
  return number;
}

/** The same, with a default when the flag (or setting) was not given. */
export function optionalWholeNumber(value: unknown, flag: string, range: WholeRange, fallback: number): number {
  return value === undefined ? fallback : parseWholeNumber(value, flag, range);
}

function wholeValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  // Beyond 16 digits a double cannot hold the number exactly; every range ends well below that.
  if (!/^[0-9]{1,16}$/.test(text)) return null;
  return Number(text);
}

/** The offending value as typed, cut short so the error stays one readable line. */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
