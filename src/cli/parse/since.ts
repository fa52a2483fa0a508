import { UsageError } from '../../errors.js';
import type { SinceSpec } from '../../scan/since/since.js';
import { looksLikeDuration, parseDuration } from './duration.js';
import { shown } from './whole-number.js';

/** A window reaches at most a century back. */
const MAX_SINCE_MS = 36_500 * 86_400_000;

const ISO = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?\s*(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$/i;

/**
 * `--since`: `last` (the stored watermark), a duration back from now
 * (`15m`, `2h`, `7d`: the duration grammar, with a unit), or an ISO 8601
 * timestamp (`2026-11-28`, `2026-11-28T09:30`, `2026-11-28 09:30:00+08:00`;
 * without an offset it is UTC, like every time the tool prints).
 */
export function parseSince(value: string, flag: string, overlapMs: number): SinceSpec {
  const text = value.trim();
  if (text.toLowerCase() === 'last') return { kind: 'last', overlapMs };
  if (/^[0-9.]+$/.test(text)) throw new UsageError(`${flag} needs a unit for a duration (15m, 2h, 7d) or a full ISO date (2026-11-28); got ${shown(value)}`);
  if (looksLikeDuration(text)) return { kind: 'ago', ms: parseDuration(text, flag, 1, MAX_SINCE_MS) };
  const at = parseIsoTimestamp(text);
  if (at === null) {
    throw new UsageError(`${flag} takes an ISO timestamp (2026-11-28T09:30:00Z), a duration back from now (15m, 2h, 7d) or last; got ${shown(value)}`);
  }
  return { kind: 'at', at };
}

/** A calendar-checked ISO 8601 date or date-time; null when it is not one (2026-02-30 is not). */
export function parseIsoTimestamp(text: string): Date | null {
  const match = ISO.exec(text);
  if (!match) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part)));
  // Cut to whole milliseconds (what a Date holds), never rounded up past a row the time names.
  const fraction = Math.floor(Number(`0.${match[7] ?? '0'}`) * 1000);
  const local = new Date(Date.UTC(year!, month! - 1, day!, hour, minute, second, fraction));
  // Date.UTC rolls 2026-02-30 over to March: a field that changed was not a real date.
  if (local.getUTCFullYear() !== year || local.getUTCMonth() !== month! - 1 || local.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  return new Date(local.getTime() - offsetMs(match[8]));
}

function offsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
}
