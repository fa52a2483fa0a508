/**
 * Where an incremental scan's window starts, as the command line said it:
 * a point in time, a duration back from the server's clock, or the
 * watermark the previous successful run left (minus an overlap).
 */
export type SinceSpec = { kind: 'at'; at: Date } | { kind: 'ago'; ms: number } | { kind: 'last'; overlapMs: number };

/** --overlap's default: rows committed up to five minutes after the time they carry are still seen by the next run. */
export const DEFAULT_OVERLAP_MS = 5 * 60_000;
