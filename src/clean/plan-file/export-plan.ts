import type { Database } from '../../db/database.js';
import { rowNumber } from '../../db/row-numbers.js';
import { forEachBatch } from '../../db/cursor.js';
import { describeNormalize } from '../../keys/key-summary.js';
import { planExportQuery, type PlanExportRow } from './plan-export-sql.js';
import { fingerprintSettingsStatement } from './plan-fingerprint-sql.js';
import packageJson from '../../../package.json' with { type: 'json' };
import type { ChildReference, CleanOptions, SampleGroup, SkippedGroup } from '../types.js';
import { requirePlansSupported } from './plan-match.js';
import { describeClean, describePolicy, startDryRun, type CleanPlanWithChecks } from '../preview.js';
import { unindexedChildKeys } from '../foreign-keys.js';
import { PLAN_FORMAT, PLAN_FORMAT_VERSION, type PlanBodyLine, type PlanGroupLine, type PlanHeader } from './plan-format.js';
import { readDatabaseIdentity } from './plan-identity.js';

/** Groups fetched per round trip from the plan's cursor. */
const FETCH_GROUPS = 1000;

/** How a child foreign key is named in a plan: schema.table.column. */
/** The header's `table` and `key`: what a plan is checked against before it is applied (clean's and suspects' plans alike). */
export function planTableAndKey(key: CleanOptions['key']): Pick<PlanHeader, 'table' | 'key'> {
  return {
    table: { schema: key.table.info.schema, name: key.table.info.name, idColumn: key.table.idColumn, createdColumn: key.table.createdColumn },
    key: {
      name: key.name,
      columns: key.columns.map((c) => c.column),
      normalize: describeNormalize(key),
      nullsEqual: key.nullsEqual,
      defaultCountry: key.defaultCountry,
    },
  };
}

export function childName(reference: Pick<ChildReference, 'schema' | 'table' | 'column'>): string {
  return `${reference.schema}.${reference.table}.${reference.column}`;
}

export interface ExportedPlan {
  /** Without the digest: the caller hashes the lines as it writes them. */
  header: Omit<PlanHeader, 'digest'>;
  /** The dry run's report, counted from the same lines (one pass, one snapshot, not a second query). */
  report: CleanPlanWithChecks;
}

/**
 * Streams the complete plan of a clean-up (the dry run's groups, keepers,
 * merge donors, child rows and skips, with every row's fingerprint) line by
 * line into `onLine`, from one snapshot; returns the header, its totals
 * counted from the lines themselves, and the dry run's report.
 */
export async function exportPlan(
  database: Database,
  options: CleanOptions,
  onLine: (line: PlanBodyLine, rows?: PlanRowValues) => Promise<void>,
  { rowValues = false }: { rowValues?: boolean } = {},
): Promise<ExportedPlan> {
  requirePlansSupported(options.key.table, 'clean --plan-out');
  const started = performance.now();
  const createdAt = new Date().toISOString();
  const { context, missing, settings } = await startDryRun(database, options);
  const { key } = options;
  const identity = await readDatabaseIdentity(database.db);
  const report = new ReportTally(options.sampleGroups);
  const totals = { groups: 0, rowsToRemove: 0, skippedGroups: 0, childRows: Object.fromEntries(context.references.map((r) => [childName(r), 0])) };
  const query = planExportQuery(settings, { rowValues });
  let lines = 0;
  await forEachBatch(
    database.db,
    query,
    FETCH_GROUPS,
    async (rows) => {
      for (const row of rows) {
        report.batches = rowNumber(row.batches, 'batches');
        if (row.kind === 'skipped') {
          totals.skippedGroups++;
          if (report.skipped.length < 20) report.skipped.push({ groupId: row.group_id, reason: row.reason ?? '' });
          await onLine({ type: 'skipped', group: row.group_id, reason: row.reason ?? '' });
        } else {
          const group = groupLine(
            row,
            key.columns.map((c) => c.column),
            context.references,
          );
          report.add(group);
          totals.groups++;
          totals.rowsToRemove += group.remove.length;
          for (const [child, n] of Object.entries(group.children ?? {})) totals.childRows[child] = (totals.childRows[child] ?? 0) + n;
          await onLine(group, rowValues ? rowValuesOf(row) : undefined);
        }
        lines++;
      }
    },
    [fingerprintSettingsStatement()],
  );
  for (const reference of context.references) {
    await onLine({
      type: 'children',
      table: `${reference.schema}.${reference.table}`,
      column: reference.column,
      constraint: reference.constraint,
      rows: totals.childRows[childName(reference)] ?? 0,
    });
    lines++;
  }
  await onLine({ type: 'end', lines });
  const header: Omit<PlanHeader, 'digest'> = {
    type: 'header',
    format: PLAN_FORMAT,
    formatVersion: PLAN_FORMAT_VERSION,
    toolVersion: packageJson.version,
    createdAt,
    database: identity,
    ...planTableAndKey(key),
    ...describePolicy(options, context),
    totals,
  };
  return {
    header,
    report: {
      ...describeClean(options, context),
      groups: totals.groups,
      rowsToRemove: totals.rowsToRemove,
      keepersToMerge: report.keepersToMerge,
      childRows: context.references.map((r) => ({
        table: `${r.schema}.${r.table}`,
        constraint: r.constraint,
        column: r.column,
        rows: totals.childRows[childName(r)] ?? 0,
      })),
      skippedGroups: totals.skippedGroups,
      skipped: report.skipped,
      batches: report.batches,
      sample: report.sample,
      missingPrivileges: missing,
      unindexedChildKeys: unindexedChildKeys(context.references),
      durationMs: Math.round(performance.now() - started),
    },
  };
}

/** For a reviewer (--plan-csv), by id: the row's values of planStoredColumns (its key columns as stored, its created time). */
export type PlanRowValues = Record<string, unknown[]>;

function rowValuesOf(row: PlanExportRow): PlanRowValues {
  return Object.fromEntries((row.ids ?? []).map((id, index) => [id, row.row_values?.[index] ?? []]));
}

/**
 * What the dry run's report counts, from the plan's lines: the keepers a
 * merge fills (a group with merge donors), the first 20 skips, and the
 * sample (the largest groups, then by group id, as sampleGroupsQuery orders them).
 */
class ReportTally {
  keepersToMerge = 0;
  batches = 0;
  readonly skipped: SkippedGroup[] = [];
  readonly sample: SampleGroup[] = [];

  constructor(private readonly size: number) {}

  add(group: PlanGroupLine): void {
    if (group.merge !== undefined) this.keepersToMerge++;
    if (this.size === 0) return;
    const rows = group.remove.length + 1;
    const last = this.sample.at(-1);
    if (this.sample.length >= this.size && last !== undefined && !before(rows, group.group, last)) return;
    const entry: SampleGroup = { groupId: group.group, key: group.key, keeper: group.keep, losers: group.remove };
    const at = this.sample.findIndex((other) => before(rows, group.group, other));
    this.sample.splice(at === -1 ? this.sample.length : at, 0, entry);
    if (this.sample.length > this.size) this.sample.pop();
  }
}

/** Larger first, then the lower group id. */
function before(rows: number, groupId: string, other: SampleGroup): boolean {
  const otherRows = other.losers.length + 1;
  return rows > otherRows || (rows === otherRows && groupId < other.groupId);
}

function groupLine(row: PlanExportRow, columns: string[], references: ChildReference[]): PlanGroupLine {
  const ids = row.ids ?? [];
  const fingerprints = row.fingerprints ?? [];
  const line: PlanGroupLine = {
    type: 'group',
    group: row.group_id,
    key: Object.fromEntries(columns.map((column, index) => [column, row.key_values?.[index] ?? null])),
    keep: row.keeper ?? '',
    remove: ids.filter((id) => id !== row.keeper),
    fingerprints: Object.fromEntries(ids.map((id, index) => [id, fingerprints[index] ?? ''])),
  };
  if (row.merge !== null && Object.keys(row.merge).length > 0) line.merge = row.merge;
  const children = Object.fromEntries(
    references
      .map((reference, index) => [childName(reference), row.children === null ? 0 : rowNumber(row.children[index], 'children')] as const)
      .filter(([, n]) => n > 0),
  );
  if (Object.keys(children).length > 0) line.children = children;
  return line;
}
