import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../errors.js';
import { DIAGNOSE_DEFAULTS, type DiagnoseSettings } from '../core/diagnose/diagnose-settings.js';
import { optionalDuration } from './parse/duration.js';
import { optionalWholeNumber, WHOLE_RANGES } from './parse/whole-number.js';
import type { FlagsOf } from './flags-of.js';

/** diagnose's own flags; `report` takes them too. */
export function diagnoseOptions() {
  return [
    new Option('--race-window <duration>', 'a copy this soon after the previous one is a concurrent call (500ms, 2s, 1m)').default('1s'),
    new Option('--retry-window <duration>', 'a copy this soon after the previous one is a retry; later ones are resubmissions').default('10m'),
    new Option('--days <n>', 'days of trend, counted back from the newest created time').default('30'),
    new Option('--interval <interval>', 'trend per day or week (UTC)').choices(['day', 'week']).default('day'),
    new Option('--by <column>', 'split the surplus and its causes by this column (top 20 values), e.g. source'),
  ] as const;
}

/** diagnose's own flags as commander hands them over. */
export type DiagnoseFlagValues = FlagsOf<ReturnType<typeof diagnoseOptions>>;

/** Checked before the database is opened, so bad flags fail fast (exit 2). */
export function resolveDiagnoseSettings(flags: Partial<DiagnoseFlagValues>, source: (flag: string) => string = (flag) => flag): DiagnoseSettings {
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
