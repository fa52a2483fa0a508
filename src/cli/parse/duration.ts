import { UsageError } from '../../errors.js';
import { shown } from './whole-number.js';

/** PostgreSQL's lock_timeout and statement_timeout take at most this many ms (int4), and so does setTimeout. */
export const MAX_DURATION_MS = 2_147_483_647;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The one duration parser (clean's --pause, --lock-timeout,
 * --statement-timeout, constraint's --lock-timeout, and the config file):
 * `500` (ms), `500ms`, `1.5s`, `2m` or `2min`, `1h`, `7d`, rounded to whole
 * ms, from `minMs` to `maxMs` (default 2147483647 ms, what a timeout takes).
 */
export function parseDuration(value: unknown, flag: string, minMs: number, maxMs = MAX_DURATION_MS): number {
  const ms = durationValue(value);
  if (ms === null || ms < minMs || ms > maxMs) {
    const examples = maxMs > MAX_DURATION_MS ? '12h, 7d or 30d' : '500ms, 5s, 2m or 1h';
    throw new UsageError(`${flag} takes a duration from ${minMs}ms to ${maxMs}ms such as ${examples} (a bare number is ms); got ${shown(value)}`);
  }
  return ms;
}

export function optionalDuration(value: unknown, flag: string, minMs: number, fallback: number, maxMs = MAX_DURATION_MS): number {
  return value === undefined ? fallback : parseDuration(value, flag, minMs, maxMs);
}

function durationValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^([0-9]{1,16}(?:\.[0-9]{1,9})?)\s*(ms|s|min|m|h|d)?$/.exec(value.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}
