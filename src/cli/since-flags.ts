import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../errors.js';
import { DEFAULT_OVERLAP_MS, type SinceSpec } from '../scan/since/since.js';
import { archiveSchema } from './options.js';
import { optionalDuration } from './parse/duration.js';
import { parseSince } from './parse/since.js';
import type { FlagsOf } from './flags-of.js';

/** scan's incremental flags as commander hands them over. */
export type SinceFlags = FlagsOf<ReturnType<typeof sinceOptions>>;

/** An overlap of more than a day would make every run rescan a day of rows. */
const MAX_OVERLAP_MS = 86_400_000;

export function sinceOptions() {
  return [
    new Option('--since <when>', 'only groups with a row created since: ISO timestamp (UTC unless it has an offset), 15m/2h/7d back, or last (the watermark)'),
    new Option('--changed-column <name>', 'with --since: rows whose <name> (e.g. updated_at) is at or after it count too, besides the created ones'),
    new Option('--overlap <duration>', 'with --since last: start this long before the watermark, for rows committed late (default: 5m)'),
    new Option('--state-file <path>', 'with --since last: keep the watermarks in this JSON file, not the database (read-only role, standby)'),
    new Option('--archive-schema <name>', 'with --since last: schema of the lead_dedupe_watermarks table (default: lead_dedupe)'),
    new Option('--strict', 'with --since: exit 1 when the run warned of rows or sessions it could not place or see (report and watermarks still written)'),
  ] as const;
}

export interface SinceSettings {
  since: SinceSpec;
  changedColumn: string | null;
  stateFile: string | null;
  /** Where the watermarks table lives when no --state-file is given. */
  archiveSchema: string;
  /** --strict: a run with warnings exits 1 (after writing its report and watermarks). */
  strict: boolean;
}

/**
 * Checked before the database is opened: bad input is exit 2 with one line
 * and no watermark touched. null when --since was not given; a flag that
 * only means something with --since (or --since last) is then an error when
 * typed (a config file may set them for the runs that use them).
 */
export function resolveSinceSettings(flags: SinceFlags, source: (flag: string) => string, configuredArchiveSchema: string): SinceSettings | null {
  const typed = (flag: string, value: unknown) => value !== undefined && source(flag) === flag;
  if (flags.since === undefined) {
    for (const [flag, value] of [
      ['--changed-column', flags.changedColumn],
      ['--overlap', flags.overlap],
      ['--state-file', flags.stateFile],
      ['--archive-schema', flags.archiveSchema],
      ['--strict', flags.strict],
    ] as const) {
      if (typed(flag, value)) throw new UsageError(`${flag} only works with --since`);
    }
    return null;
  }
  const overlapMs = optionalDuration(flags.overlap, source('--overlap'), 0, DEFAULT_OVERLAP_MS, MAX_OVERLAP_MS);
  const since = parseSince(flags.since, source('--since'), overlapMs);
  if (since.kind !== 'last') {
    for (const [flag, value] of [
      ['--overlap', flags.overlap],
      ['--state-file', flags.stateFile],
      ['--archive-schema', flags.archiveSchema],
    ] as const) {
      if (typed(flag, value)) throw new UsageError(`${flag} only works with --since last (a fixed --since keeps no watermark)`);
    }
  }
  if (flags.changedColumn !== undefined && flags.changedColumn.trim() === '') throw new UsageError(`${source('--changed-column')} needs a column name`);
  return {
    since,
    changedColumn: flags.changedColumn ?? null,
    stateFile: flags.stateFile ?? null,
    archiveSchema: flags.archiveSchema === undefined ? configuredArchiveSchema : archiveSchema(flags.archiveSchema),
    strict: flags.strict ?? false,
  };
}
