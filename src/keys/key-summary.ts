import type { NormalizeRule, ResolvedKey } from './key-definition.js';

/** The key as every report shows it: the resolved key minus its table. */
export interface KeySummary {
  name: string;
  /** Real column names, in key order. */
  columns: string[];
  /** Real column name → rule, only for normalised columns. */
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

export function describeNormalize(key: ResolvedKey): Record<string, NormalizeRule> {
  return Object.fromEntries(key.columns.filter((c) => c.normalize !== null).map((c) => [c.column, c.normalize!]));
}
