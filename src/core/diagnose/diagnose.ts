import type { CommandLineContext } from '../../keys/key-command-line.js';
import type { Database } from '../../db/database.js';
import { rowNumber } from '../../db/row-numbers.js';
import { findColumn, qualifiedName, requireColumn } from '../../db/catalog.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { summarizeKey } from '../../keys/key-summary.js';
import { phoneColumn } from '../../keys/phone-column.js';
import {
  diagnoseQuery,
  GAP_BUCKETS_MS,
  phoneSpreadQuery,
  timelineQuery,
  type ByValueRow,
  type DiagnoseRow,
  type PhoneSpreadColumns,
} from '../../sql/diagnose-plan.js';
import { answerQuestions } from './answers.js';
import type { CauseCounts, DiagnoseReport, PhoneSpread, Trend } from './diagnose-report.js';
import type { DiagnoseSettings } from './diagnose-settings.js';

export interface DiagnoseOptions {
  key: ResolvedKey;
  settings: DiagnoseSettings;
  /** logical → real column (--map / config), to find --by and the device and user columns. */
  columnMap: Record<string, string>;
  /** How the commands the answers suggest (question 3's sql upsert) reach the same database; default: the same shell. */
  commandLine?: CommandLineContext;
}

/**
 * Why duplicates arise under one key, computed inside PostgreSQL: the
 * diagnosis statement (groups, then one window pass over their rows), the
 * timeline and the phone spread are issued at once, so a server runs them on
 * parallel connections. Read-only: works on a hot standby.
 */
export async function diagnose(database: Database, options: DiagnoseOptions): Promise<DiagnoseReport> {
  const started = performance.now();
  const { key, settings } = options;
  const table = key.table;
  const by = settings.by === null ? null : requireColumn(table.info, options.columnMap[settings.by] ?? settings.by, '--by column').name;
  const keyColumns = new Set(key.columns.map((c) => c.column));
  const compared = table.info.columns.map((c) => c.name).filter((name) => name !== table.idColumn && name !== table.createdColumn && !keyColumns.has(name));
  const spread = phoneSpreadColumns(key, options.columnMap);
  const [row, timeline, phones] = await Promise.all([
    diagnoseQuery({ key, compared, by, raceWindowMs: settings.raceWindowMs, retryWindowMs: settings.retryWindowMs, interval: settings.interval })
      .execute(database.db)
      .then((result) => result.rows[0]!),
    timelineQuery(table, settings.interval, settings.days)
      .execute(database.db)
      .then((result) => result.rows[0]!),
    spread === null
      ? null
      : phoneSpreadQuery(key, spread)
          .execute(database.db)
          .then((result) => toPhoneSpread(result.rows[0]!, spread)),
  ]);
  const duplicatesPerBucket = new Map((row.trend ?? []).map(([start, n]) => [start, rowNumber(n, 'n')]));
  const trend: Trend = {
    interval: settings.interval,
    days: settings.days,
    newestCreatedAt: timeline.newest,
    points: (timeline.points ?? []).map(([start, leads]) => ({ start, leads: rowNumber(leads, 'leads'), duplicates: duplicatesPerBucket.get(start) ?? 0 })),
    lastDuplicateAt: row.last_duplicate_at,
    last24h: rowNumber(row.last24h, 'last24h'),
    last7d: rowNumber(row.last7d, 'last7d'),
    serverNow: row.server_now,
    last24hBeforeNow: rowNumber(row.before_now_24h, 'before_now_24h'),
    last7dBeforeNow: rowNumber(row.before_now_7d, 'before_now_7d'),
  };
  const report: Omit<DiagnoseReport, 'answers' | 'durationMs'> = {
    table: qualifiedName(table.info),
    rows: rowNumber(timeline.rows, 'rows'),
    key: summarizeKey(key),
    groups: rowNumber(row.groups, 'groups'),
    rowsInGroups: rowNumber(row.rows_in_groups, 'rows_in_groups'),
    surplus: rowNumber(row.surplus, 'surplus'),
    gaps: GAP_BUCKETS_MS.map((upToMs, index) => ({ upToMs, duplicates: rowNumber(row.gaps[index], 'gaps') })),
    gapsUnknown: rowNumber(row.gaps_unknown, 'gaps_unknown'),
    cause: { ...causesOf(row), raceWindowMs: settings.raceWindowMs, retryWindowMs: settings.retryWindowMs },
    trend,
    columnsThatDiffer: compared.map((column, index) => ({
      column,
      groups: rowNumber(row.diff_groups[index], 'diff_groups'),
      rows: rowNumber(row.diff_rows[index], 'diff_rows'),
      rowsDifferingOnlyHere: rowNumber(row.only_rows[index], 'only_rows'),
    })),
    groupsThatDiffer: rowNumber(row.any_diff_groups, 'any_diff_groups'),
    laterCopiesAddData: compared.map((column, index) => ({
      column,
      groups: rowNumber(row.fill_groups[index], 'fill_groups'),
      rows: rowNumber(row.fill_rows[index], 'fill_rows'),
    })),
    groupsWithAddedData: rowNumber(row.any_fill_groups, 'any_fill_groups'),
    phones,
    ...(by === null
      ? {}
      : {
          by: {
            column: by,
            distinctValues: rowNumber(row.by_values, 'by_values'),
            values: (row.by_top ?? []).map((value) => ({ value: value.value, surplus: rowNumber(value.surplus, 'surplus'), ...causesOf(value) })),
            otherValues: row.by_rest === null ? null : { surplus: rowNumber(row.by_rest.surplus, 'surplus'), ...causesOf(row.by_rest) },
          },
        }),
  };
  return { ...report, answers: answerQuestions(report, key, options.commandLine), durationMs: Math.round(performance.now() - started) };
}

function causesOf(row: Pick<DiagnoseRow | ByValueRow, 'race' | 'retry' | 'resubmission' | 'unknown'>): CauseCounts {
  return {
    race: rowNumber(row.race, 'race'),
    retry: rowNumber(row.retry, 'retry'),
    resubmission: rowNumber(row.resubmission, 'resubmission'),
    unknown: rowNumber(row.unknown, 'unknown'),
  };
}

function toPhoneSpread(row: { phones: unknown; on_several_devices: unknown; for_several_users: unknown }, columns: PhoneSpreadColumns): PhoneSpread {
  return {
    column: columns.phone.column,
    deviceColumn: columns.device,
    userColumn: columns.user,
    phones: rowNumber(row.phones, 'phones'),
    onSeveralDevices: rowNumber(row.on_several_devices, 'on_several_devices'),
    forSeveralUsers: rowNumber(row.for_several_users, 'for_several_users'),
  };
}

/** A key with a phone column gets the phone spread, over the device and user columns the table has (after --map). */
function phoneSpreadColumns(key: ResolvedKey, columnMap: Record<string, string>): PhoneSpreadColumns | null {
  const phone = phoneColumn(key, columnMap);
  if (phone === null) return null;
  const real = (logical: string) => findColumn(key.table.info, columnMap[logical] ?? logical)?.name ?? null;
  return { phone, device: real('device_id'), user: real('user_id') };
}
