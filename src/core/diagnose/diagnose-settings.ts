import { UsageError } from '../../errors.js';
import { optionalDuration } from '../inputs/duration.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../inputs/whole-number.js';
import type { TrendInterval } from '../../sql/diagnose-plan.js';

/** diagnose's own flags as commander hands them over. */
export interface DiagnoseFlagValues {
  raceWindow?: string;
  retryWindow?: string;
  days?: string;
  interval?: string;
  by?: string;
}

export interface DiagnoseSettings {
  raceWindowMs: number;
  retryWindowMs: number;
  days: number;
  interval: TrendInterval;
  /** Column to split by, as the user named it (mapped and checked against the catalog by the core); null without --by. */
  by: string | null;
}

export const DIAGNOSE_DEFAULTS: DiagnoseSettings = { raceWindowMs: 1_000, retryWindowMs: 600_000, days: 30, interval: 'day', by: null };

/** Checked before the database is opened, so bad flags fail fast (exit 2). */
export function resolveDiagnoseSettings(flags: DiagnoseFlagValues): DiagnoseSettings {
  const raceWindowMs = optionalDuration(flags.raceWindow, '--race-window', 0, DIAGNOSE_DEFAULTS.raceWindowMs);
  const retryWindowMs = optionalDuration(flags.retryWindow, '--retry-window', 0, DIAGNOSE_DEFAULTS.retryWindowMs);
  if (raceWindowMs > retryWindowMs) {
    throw new UsageError(`--race-window (${raceWindowMs} ms) must not be larger than --retry-window (${retryWindowMs} ms)`);
  }
  const days = optionalWholeNumber(flags.days, '--days', WHOLE_RANGES.days, DIAGNOSE_DEFAULTS.days);
  const interval = flags.interval ?? DIAGNOSE_DEFAULTS.interval;
  if (interval !== 'day' && interval !== 'week') throw new UsageError(`--interval takes day|week; got "${interval}"`);
  const by = flags.by === undefined ? null : flags.by.trim();
  if (by === '') throw new UsageError('--by takes a column name');
  return { raceWindowMs, retryWindowMs, days, interval, by };
}
