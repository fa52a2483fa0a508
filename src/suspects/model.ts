import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';

/**
 * What `suspects` compares, as the user configures it (config file
 * `suspects`), before the columns are checked against the catalog. Lead
 * defaults: DEFAULT_SUSPECTS.
 */

/** How a comparator reads a column; a block reads a column in the normal form of its comparator. */
export const COMPARATOR_KINDS = ['phone', 'email', 'name', 'equal', 'time'] as const;
export type ComparatorKind = (typeof COMPARATOR_KINDS)[number];

/** The outcomes each kind can give a pair (both values present); a NULL on either side gives none (weight 0). */
export const OUTCOMES = {
  phone: ['same', 'oneEdit', 'swapped', 'different'],
  email: ['same', 'different'],
  name: ['same', 'similar', 'different'],
  equal: ['same', 'different'],
  /** time: a duration per bucket instead (`"1h": 1.5`), the smallest bucket the gap fits. */
  time: [],
} as const satisfies Record<ComparatorKind, readonly string[]>;

export interface BlockRule {
  name: string;
  /** Rows are candidates when they agree on every column (in its comparator's normal form). */
  columns: string[];
  /** One column whose values may be one edit apart (a deletion-neighbourhood equi-join) instead of equal. */
  oneEdit?: boolean;
}

export interface ComparatorRule {
  column: string;
  kind: ComparatorKind;
  /** Outcome → points; for time, duration ("1h", "2d") → points. */
  weights: Record<string, number>;
  /** time only: the weights' durations, read (the config reader fills it). */
  buckets?: TimeBucket[];
}

export interface SuspectsConfig {
  blocks: BlockRule[];
  comparators: ComparatorRule[];
  /** A pair with at least this score is a suspect. */
  threshold: number;
  /** Columns on which two rows must agree (IS NOT DISTINCT FROM) to ever be one lead, e.g. niche. */
  distinguishing: string[];
  /** Names at least this similar (0–1, trigram similarity) are "similar". */
  nameSimilarity: number;
}

/**
 * For a leads table. Same device is not a block of its own: at 1M rows it
 * is 60M+ candidate pairs (devices are skewed), and the same name within a
 * device covers the pairs it would add that the others miss. "Phone within
 * one edit" (`oneEdit: true`) is not a default block either: at 1M rows its
 * neighbourhood is 10.9M keys and 4.5M candidate pairs, most of them random
 * phones one digit apart; the phone comparator still tells one edit or a
 * swap for the pairs the other blocks find.
 */
export const DEFAULT_SUSPECTS: SuspectsConfig = {
  blocks: [
    { name: 'same e-mail', columns: ['email'] },
    { name: 'same phone', columns: ['phone'] },
    { name: 'same name on a device', columns: ['device_id', 'name'] },
  ],
  comparators: [
    { column: 'phone', kind: 'phone', weights: { same: 4, oneEdit: 2.5, swapped: 2.5, different: -3 } },
    { column: 'email', kind: 'email', weights: { same: 4, different: -2.5 } },
    { column: 'name', kind: 'name', weights: { same: 2.5, similar: 1.5, different: -2 } },
    { column: 'device_id', kind: 'equal', weights: { same: 1, different: 0 } },
    {
      column: 'created_at',
      kind: 'time',
      weights: { '1h': 1.5, '1d': 1, '30d': 0.5 },
      buckets: [
        { label: '1h', seconds: 3600, weight: 1.5 },
        { label: '1d', seconds: 86_400, weight: 1 },
        { label: '30d', seconds: 2_592_000, weight: 0.5 },
      ],
    },
  ],
  threshold: 5,
  distinguishing: [],
  nameSimilarity: 0.5,
};

/** A time comparator's bucket: gaps up to `seconds` score `weight`. */
export interface TimeBucket {
  label: string;
  seconds: number;
  weight: number;
}

export interface ResolvedComparator {
  /** Real column name, checked against the catalog. */
  column: string;
  kind: ComparatorKind;
  weights: Record<string, number>;
  /** time only, smallest first. */
  buckets: TimeBucket[];
}

export interface ResolvedBlock {
  name: string;
  columns: { column: string; kind: ComparatorKind | null }[];
  oneEdit: boolean;
}

/** Which installed extension each comparison uses: schema of the extension, or null (the built-in fallback). */
export interface SuspectFunctions {
  pgTrgm: string | null;
  fuzzystrmatch: string | null;
  unaccent: string | null;
}

/** Everything the planners need, checked: columns exist and fit their kind. */
export interface SuspectsModel {
  table: LeadTable;
  /** Pairs this exact key already groups are not suspects: the key caught them. */
  key: ResolvedKey;
  blocks: ResolvedBlock[];
  comparators: ResolvedComparator[];
  threshold: number;
  distinguishing: string[];
  nameSimilarity: number;
  /** Digits of the calling code for phones (e164); null: phones compare by their digits. */
  callingCode: string | null;
  functions: SuspectFunctions;
}
