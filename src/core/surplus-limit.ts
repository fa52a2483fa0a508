/**
 * `scan --max-surplus <n>` (and `--fail-on-duplicates`, its n = 0 case): which
 * scanned keys have more surplus rows than the caller allows. An incremental
 * scan's key carries `newSurplus` (what the window added); when it does, that
 * is the figure judged, since the rows before the window were judged by
 * earlier runs.
 */
export interface SurplusLimit {
  /** The most surplus rows a key may have. */
  max: number;
  /** Names of the keys above `max`, in scan order; empty when none is. */
  keysAbove: string[];
}

/** What judging a key needs: its name and surplus, and what an incremental scan adds. */
export interface JudgedKey {
  name: string;
  surplus: number;
  newSurplus?: number;
}

/** The figure `--max-surplus` compares: `newSurplus` when the key carries it, else `surplus`. */
export function judgedSurplus(key: JudgedKey): number {
  return key.newSurplus ?? key.surplus;
}

export function judgeSurplus(keys: readonly JudgedKey[], max: number): SurplusLimit {
  return { max, keysAbove: keys.filter((key) => judgedSurplus(key) > max).map((key) => key.name) };
}
