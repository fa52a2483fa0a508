import { UsageError } from '../../errors.js';
import { shown } from './whole-number.js';

/** PostgreSQL's lock_timeout and statement_timeout take at most this many ms (int4), and so does setTimeout. */
export const MAX_DURATION_MS = 2_147_483_647;

const DAY_MS = 86_400_000;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: DAY_MS };

/**
 * The one duration parser (clean's --pause, --lock-timeout,
 * --statement-timeout, constraint's --lock-timeout, scan's --since and
 * --overlap, and the config file): `500` (ms), `500ms`, `1.5s`, `2m` or
 * `2min`, `1h`, `7d`, rounded to whole ms, from `minMs` to `maxMs`
 * (default 2147483647 ms, what PostgreSQL's timeouts take).
 */
export function parseDuration(value: unknown, flag: string, minMs: number, maxMs = MAX_DURATION_MS): number {
  const ms = durationValue(value);
  if (ms === null || ms < minMs || ms > maxMs) {
    throw new UsageError(
      `${flag} takes a duration from ${shownMs(minMs)} to ${shownMs(maxMs)} such as 500ms, 5s, 2m or 1h (a bare number is ms); got ${shown(value)}`,
    );
  }
  return ms;
}

export function optionalDuration(value: unknown, flag: string, minMs: number, fallback: number, maxMs = MAX_DURATION_MS): number {
  return value === undefined ? fallback : parseDuration(value, flag, minMs, maxMs);
}

/** Whether the text is written in the duration grammar at all (whatever its range): `--since` tells a duration from a timestamp with it. */
export function looksLikeDuration(value: string): boolean {
  return durationValue(value) !== null;
}

function durationValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^([0-9]{1,16}(?:\.[0-9]{1,9})?)\s*(ms|s|min|m|h|d)?$/.exec(value.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}

/** A limit as the error shows it: whole days as days, else milliseconds. */
function shownMs(ms: number): string {
  return ms > 0 && ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : `${ms}ms`;
}
