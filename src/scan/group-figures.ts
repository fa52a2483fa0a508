import { SIZE_BUCKETS, type KeyScanRow } from './sql/scan-sql.js';

/** A candidate for the top groups: its size and every id in it. */
interface Candidate {
  n: number;
  ids: string[];
}

/**
 * One key's scan figures (summary, histogram, the top groups' members) from
 * the details export's rows as they are written: every row of every
 * duplicate group, groups one after another in key order, each group's rows
 * ranked from 1. A group's size is on each of its rows, so a group is
 * counted at its first row. The report's top groups are ordered by size,
 * then by key: the rows arrive in key order, so among groups of one size the
 * first to arrive is first, and a group joins the top only when it is larger
 * than the smallest kept. Memory: the ids of the kept groups only.
 */
export class GroupFigures {
  groups = 0;
  rowsInGroups = 0;
  largest: number | null = null;
  readonly buckets: number[] = SIZE_BUCKETS.map(() => 0);
  /** Largest first; among equal sizes in arrival (key) order. */
  private readonly top: Candidate[] = [];
  private collecting: Candidate | null = null;

  constructor(private readonly limit: number) {}

  addRow(groupSize: number, rank: number, id: string): void {
    this.rowsInGroups++;
    if (rank === 1) this.startGroup(groupSize);
    this.collecting?.ids.push(id);
  }

  /** The summary as the scan's statement returns it; the top groups are read from topGroupIds by their ids. */
  summary(): Omit<KeyScanRow, 'top'> {
    return { groups: this.groups, rows_in_groups: this.rowsInGroups, largest: this.largest, buckets: [...this.buckets] };
  }

  /** Every id of the top groups (at most `limit` groups). */
  topGroupIds(): string[] {
    return this.top.flatMap((group) => group.ids);
  }

  private startGroup(n: number): void {
    this.groups++;
    if (this.largest === null || n > this.largest) this.largest = n;
    const bucket = SIZE_BUCKETS.findIndex((b) => n >= b.min && (b.max === null || n <= b.max));
    if (bucket >= 0) this.buckets[bucket]!++;
    this.collecting = null;
    if (this.limit === 0 || (this.top.length === this.limit && n <= this.top[this.top.length - 1]!.n)) return;
    const candidate = { n, ids: [] };
    // after every kept group of its size or larger (they came first), before the smaller ones
    let low = 0;
    let high = this.top.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.top[middle]!.n >= n) low = middle + 1;
      else high = middle;
    }
    this.top.splice(low, 0, candidate);
    if (this.top.length > this.limit) this.top.pop();
    this.collecting = candidate;
  }
}
