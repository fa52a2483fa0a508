import type { TrendInterval } from '../../sql/diagnose-plan.js';

export interface DiagnoseSettings {
  raceWindowMs: number;
  retryWindowMs: number;
  days: number;
  interval: TrendInterval;
  /** Column to split by, as the user named it (mapped and checked against the catalog by the core); null without --by. */
  by: string | null;
}

export const DIAGNOSE_DEFAULTS: DiagnoseSettings = { raceWindowMs: 1_000, retryWindowMs: 600_000, days: 30, interval: 'day', by: null };
