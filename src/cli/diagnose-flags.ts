import { UsageError } from '../errors.js';
import { DIAGNOSE_DEFAULTS, type DiagnoseSettings } from '../core/diagnose/diagnose-settings.js';
import { optionalDuration } from './parse/duration.js';
import { optionalWholeNumber, WHOLE_RANGES } from './parse/whole-number.js';

/** diagnose's own flags as commander hands them over. */
export interface DiagnoseFlagValues {
  raceWindow?: string;
  retryWindow?: string;
  days?: string;
  interval?: string;
  by?: string;
}

/** Checked before the database is opened, so bad flags fail fast (exit 2). */
export function resolveDiagnoseSettings(flags: DiagnoseFlagValues, source: (flag: string) => string = (flag) => flag): DiagnoseSettings {
  const raceWindowMs = optionalDuration(flags.raceWindow, source('--race-window'), 0, DIAGNOSE_DEFAULTS.raceWindowMs);
  const retryWindowMs = optionalDuration(flags.retryWindow, source('--retry-window'), 0, DIAGNOSE_DEFAULTS.retryWindowMs);
  if (raceWindowMs > retryWindowMs) {
    throw new UsageError(`--race-window (${raceWindowMs} ms) must not be larger than --retry-window (${retryWindowMs} ms)`);
  }
  const days = optionalWholeNumber(flags.days, source('--days'), WHOLE_RANGES.days, DIAGNOSE_DEFAULTS.days);
  const interval = flags.interval ?? DIAGNOSE_DEFAULTS.interval;
  if (interval !== 'day' && interval !== 'week') throw new UsageError(`--interval takes day|week; got "${interval}"`);
  const by = flags.by === undefined ? null : flags.by.trim();
  if (by === '') throw new UsageError('--by takes a column name');
  return { raceWindowMs, retryWindowMs, days, interval, by };
}
