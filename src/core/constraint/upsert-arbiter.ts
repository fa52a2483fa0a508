import type { UniqueIndexInfo } from '../../db/unique-indexes.js';
import type { KeyMatch } from './key-protection.js';

/**
 * Which unique index the upsert's DO UPDATE arbitrates on, and what the
 * table's other unique indexes mean for it. Pure: the catalog was read by
 * the caller.
 *
 * The statement's first step (INSERT … ON CONFLICT DO NOTHING, no target)
 * absorbs a conflict on every unique index. Its second step (ON CONFLICT
 * (<arbiter>) DO UPDATE) absorbs conflicts on the arbiter only: every other
 * unique index gets PostgreSQL's plain unique check, which raises 23505.
 * - `covered`: an index that rejects only rows the arbiter rejects too (the
 *   arbiter's elements are a subset of its, the arbiter is not partial or has
 *   its predicate, and NULLs conflict in it only if they do in the arbiter).
 *   It can still raise, but only in a race (our reading of the executor, which
 *   the figures below bear out): ON CONFLICT looks for the stored
 *   row with an index scan that does not hold the arbiter's page while it
 *   reads the heap, so a concurrent UPDATE that moves the row to a new index
 *   entry (any non-HOT update, the statement's own no-op one included) can
 *   hide it; the insert then reaches the covered index, whose check waits for
 *   that update and raises. Reproduced: 50 callers × 1,000 leads under CPU
 *   load, 12 and 19 such errors in two runs of three; none with fillfactor 30,
 *   where every update stayed HOT. A retry finds the row.
 * - `uncovered`: an index that can reject a row the arbiter accepts: a lasting
 *   conflict with another lead, which a retry does not resolve.
 */
export interface ArbiterChoice {
  arbiter: UniqueIndexInfo;
  /** How the arbiter relates to the key: its own index, a partial index on exactly its elements, or one on fewer of them. */
  relation: 'key' | 'partial' | 'narrower';
  /** Other unique indexes that reject only rows the arbiter rejects too: 23505 from them only in a race. */
  covered: UniqueIndexInfo[];
  /** Other unique indexes that can reject a row the arbiter accepts: a lasting conflict. */
  uncovered: UniqueIndexInfo[];
}

export interface ArbiterInput {
  match: KeyMatch;
  indexes: UniqueIndexInfo[];
  nullsEqual: boolean;
  /** skip may arbitrate on whichever candidate leaves nothing uncovered; update policies stay on the key's own index (a narrower one would update another lead). */
  policy: 'skip' | 'update';
  /**
   * Plain columns the insert leaves to the server's sequence (identity, the
   * id), as names and as pg_get_indexdef prints them: a unique index with
   * one of them (the primary key; on Citus (device_id, id)) never rejects
   * the insert, as the new value is unique.
   */
  serverFilled: string[];
}

/** null: no valid unique index enforces the key (or a subset of it). */
export function chooseArbiter(input: ArbiterInput): ArbiterChoice | null {
  const { match, indexes, nullsEqual } = input;
  const partial = indexes.filter(
    (index) => index.valid && index.immediate && index.predicate !== null && index.nullsNotDistinct === nullsEqual && sameSet(index.elements, match.elements),
  );
  const options: [UniqueIndexInfo, ArbiterChoice['relation']][] = [
    ...match.protecting.slice(0, 1).map((index) => [index, 'key'] as [UniqueIndexInfo, 'key']),
    ...partial.map((index) => [index, 'partial'] as [UniqueIndexInfo, 'partial']),
    ...match.impliedBy.map((index) => [index, 'narrower'] as [UniqueIndexInfo, 'narrower']),
  ];
  if (options.length === 0) return null;
  const candidates = indexes.filter((index) => index.valid && !index.elements.some((element) => input.serverFilled.includes(element)));
  const choices = options.map(([arbiter, relation]) => {
    const others = candidates.filter((index) => index.name !== arbiter.name);
    const covered = others.filter((index) => covers(arbiter, index));
    return { arbiter, relation, covered, uncovered: others.filter((index) => !covered.includes(index)) };
  });
  // An update arbitrates on the key's own index whenever it has one: a narrower index would update a different lead.
  if (input.policy === 'update') return choices[0]!;
  return choices.find((choice) => choice.uncovered.length === 0) ?? choices[0]!;
}

/** Whether every row `other` rejects is rejected by `arbiter` too. */
export function covers(arbiter: UniqueIndexInfo, other: UniqueIndexInfo): boolean {
  return (
    other.immediate &&
    arbiter.elements.every((element) => other.elements.includes(element)) &&
    (arbiter.predicate === null || arbiter.predicate === other.predicate) &&
    (arbiter.nullsNotDistinct || !other.nullsNotDistinct)
  );
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}
