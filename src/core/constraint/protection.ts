import type { UniqueIndexInfo } from '../../db/unique-indexes.js';

/**
 * Whether a unique index enforces exactly the key: valid, not partial, not
 * deferred (ON CONFLICT cannot use a deferrable one), the same NULL semantics
 * and the same set of elements. Order does not matter: uniqueness of
 * (a, b) is uniqueness of (b, a), and ON CONFLICT infers either.
 * A stricter index (fewer columns, NULLs not distinct for a NULLs-distinct
 * key) is not equivalent: it would reject rows the key allows.
 */
export function enforcesKey(index: UniqueIndexInfo, elements: string[] | null, nullsEqual: boolean): boolean {
  return (
    index.valid &&
    index.predicate === null &&
    index.immediate &&
    index.nullsNotDistinct === nullsEqual &&
    (elements === null || sameSet(index.elements, elements))
  );
}

/**
 * The indexes enforcing the key, constraints first. `elements` null: the
 * elements were already matched by the planner (key-protection.ts), only the
 * flags are left to check.
 */
export function protectingIndexes(indexes: UniqueIndexInfo[], elements: string[] | null, nullsEqual: boolean): UniqueIndexInfo[] {
  return indexes
    .filter((index) => enforcesKey(index, elements, nullsEqual))
    .sort((a, b) => Number(a.constraint === null) - Number(b.constraint === null));
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = (list: string[]) => [...list].sort();
  return sorted(a).every((value, index) => value === sorted(b)[index]);
}
