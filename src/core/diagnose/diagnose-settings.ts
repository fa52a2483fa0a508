import { UsageError } from '../../errors.js';
import { duration } from '../clean/clean-settings.js';
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
  const raceWindowMs = duration(flags.raceWindow, '--race-window') ?? DIAGNOSE_DEFAULTS.raceWindowMs;
  const retryWindowMs = duration(flags.retryWindow, '--retry-window') ?? DIAGNOSE_DEFAULTS.retryWindowMs;
  if (raceWindowMs > retryWindowMs) {
    throw new UsageError(`--race-window (${raceWindowMs} ms) must not be larger than --retry-window (${retryWindowMs} ms)`);
  }
  let days = DIAGNOSE_DEFAULTS.days;
  if (flags.days !== undefined) {
    if (!/^\d+$/.test(flags.days.trim())) throw new UsageError(`--days takes a whole number; got "${flags.days}"`);
    days = Number(flags.days);
    if (days < 1 || days > 36_500) throw new UsageError(`--days must be between 1 and 36500; got ${days}`);
  }
  const interval = flags.interval ?? DIAGNOSE_DEFAULTS.interval;
  if (interval !== 'day' && interval !== 'week') throw new UsageError(`--interval takes day|week; got "${interval}"`);
  const by = flags.by === undefined ? null : flags.by.trim();
  if (by === '') throw new UsageError('--by takes a column name');
  return { raceWindowMs, retryWindowMs, days, interval, by };
}
