import { closest, distance } from 'fastest-levenshtein';

/**
 * ` (did you mean "scan"?)` when one of `known` is a likely typo of `typed`
 * (2 edits, or a third of its letters for longer names, at most 3), else ''.
 */
export function didYouMean(typed: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const best = closest(typed, [...known]);
  const allowed = Math.min(3, Math.max(2, Math.floor(typed.length / 3)));
  return distance(typed.toLowerCase(), best.toLowerCase()) <= allowed ? ` (did you mean "${best}"?)` : '';
}
