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
  return indexes.filter((index) => enforcesKey(index, elements, nullsEqual)).sort((a, b) => Number(a.constraint === null) - Number(b.constraint === null));
}

/**
 * The valid unique indexes on a proper subset of the key's elements: two
 * rows equal under the key are equal on the subset, so the index already
 * rejects every duplicate of the key (and more). NULLs: a NULLS NOT DISTINCT
 * index covers either kind of key; a NULLS DISTINCT one only a NULLs-distinct
 * key (rows with a NULL are duplicates under a NULLs-equal key, but not under
 * the index). ON CONFLICT cannot infer such an index from the key's columns:
 * sql upsert then targets the index's own elements (upsert.ts).
 */
export function impliedByIndexes(indexes: UniqueIndexInfo[], elements: string[], nullsEqual: boolean): UniqueIndexInfo[] {
  return indexes
    .filter(
      (index) =>
        index.valid &&
        index.predicate === null &&
        index.immediate &&
        (index.nullsNotDistinct || !nullsEqual) &&
        index.elements.length < elements.length &&
        index.elements.every((element) => elements.includes(element)),
    )
    .sort((a, b) => a.elements.length - b.elements.length || Number(a.constraint === null) - Number(b.constraint === null));
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = (list: string[]) => [...list].sort();
  return sorted(a).every((value, index) => value === sorted(b)[index]);
}
