import type { NormalizeRule, ResolvedKey } from '../../keys/key-definition.js';
import { describeNormalize } from '../scan.js';

/** The key as reports show it (the resolved key minus its table). */
export interface KeySummary {
  name: string;
  /** Real column names, in key order. */
  columns: string[];
  normalize: Record<string, NormalizeRule>;
  defaultCountry: string | null;
  nullsEqual: boolean;
}

export function summarizeKey(key: ResolvedKey): KeySummary {
  return {
    name: key.name,
    columns: key.columns.map((c) => c.column),
    normalize: describeNormalize(key),
    defaultCountry: key.defaultCountry,
    nullsEqual: key.nullsEqual,
  };
}
