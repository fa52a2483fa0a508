import { qualifiedName, resolveTableByName } from '../../db/catalog.js';
import type { Db } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { describeNormalize } from '../../keys/key-summary.js';
import { resolveKey, resolveKeys, resolveLeadTable, type KeySettings } from '../../keys/resolve-key.js';
import type { MergeColumn } from '../sql/merge-sql.js';
import { loadLeadTable } from '../../core/lead-table.js';
import type { PlanDatabaseIdentity, PlanHeader } from './plan-format.js';
import type { OpenedPlan } from './read-plan.js';

/** What the command line says besides the plan; each given value must agree with the plan's header. */
export interface PlanTargetRequest {
  /** --table as typed; undefined: the plan's table. */
  table?: string;
  /** --id-column as typed; undefined: the plan's. */
  idColumn?: string;
  /** --key as typed; undefined: the plan's key. */
  keyText?: string;
  keySettings: KeySettings;
  archiveSchema: string;
}

/**
 * The key a plan is applied under, checked against this database: the
 * plan's own table and key unless --table or --key name others, which are
 * then refused if they differ from the plan (exit 2, nothing changed), as is
 * another database.
 */
export async function resolvePlanKey(db: Db, plan: OpenedPlan, identity: PlanDatabaseIdentity, request: PlanTargetRequest): Promise<ResolvedKey> {
  const { header, path } = plan;
  requireSameDatabase(header, identity, path);
  const planned = qualifiedName(header.table);
  const use = { command: 'clean --plan', archiveSchema: request.archiveSchema };
  const table =
    request.table === undefined
      ? resolveLeadTable(await requirePlannedTable(db, header, use, path), request.idColumn ?? header.table.idColumn, header.table.createdColumn)
      : await loadLeadTable(
          db,
          {
            table: request.table,
            idColumn: request.idColumn ?? header.table.idColumn,
            createdColumn: header.table.createdColumn,
            archiveSchema: request.archiveSchema,
          },
          'clean --plan',
        );
  const here = qualifiedName(table.info);
  requirePlansSupported(table, 'clean --plan');
  if (here !== planned) throw new UsageError(`plan ${path} is for table ${planned}; --table names ${here}; nothing was changed`);
  if (table.idColumn !== header.table.idColumn) {
    throw new UsageError(`plan ${path} lists rows by id column ${header.table.idColumn}; --id-column names ${table.idColumn}; nothing was changed`);
  }
  const key =
    request.keyText === undefined
      ? resolveKey(
          table,
          { name: header.key.name, columns: header.key.columns, normalize: header.key.normalize, nullsEqual: header.key.nullsEqual },
          { columnMap: {}, normalize: {}, defaultCountry: header.key.defaultCountry, nullsEqual: header.key.nullsEqual, customKeys: [] },
        )
      : resolveKeys(table, [request.keyText], request.keySettings).keys[0]!;
  const differs = keyDifference(header, key);
  if (differs !== null) throw new UsageError(`plan ${path} is for key ${describePlanKey(header)}; ${differs}; nothing was changed`);
  return key;
}

async function requirePlannedTable(db: Db, header: PlanHeader, use: { command: string; archiveSchema: string }, path: string) {
  const info = await resolveTableByName(db, header.table.schema, header.table.name, use);
  if (info === undefined)
    throw new UsageError(`plan ${path} is for table ${qualifiedName(header.table)}, which does not exist in this database; nothing was changed`);
  return info;
}

function requireSameDatabase(header: PlanHeader, identity: PlanDatabaseIdentity, path: string): void {
  const planned = header.database;
  if (planned.name !== identity.name) {
    throw new UsageError(`plan ${path} was made on database ${planned.name}; this is database ${identity.name}; nothing was changed`);
  }
  if (planned.systemIdentifier !== null && identity.systemIdentifier !== null && planned.systemIdentifier !== identity.systemIdentifier) {
    throw new UsageError(
      `plan ${path} was made on database ${planned.name} of another server (system identifier ${planned.systemIdentifier}; this one is ${identity.systemIdentifier}); nothing was changed`,
    );
  }
}

/** How the key here differs from the plan's (columns, normalisation, NULLs), or null. */
function keyDifference(header: PlanHeader, key: ResolvedKey): string | null {
  const columns = key.columns.map((c) => c.column);
  const normalize = describeNormalize(key);
  const here = `key ${key.name} here is (${columns.join(', ')})`;
  if (key.name !== header.key.name || columns.join('\u0000') !== header.key.columns.join('\u0000')) return here;
  if (JSON.stringify(sorted(normalize)) !== JSON.stringify(sorted(header.key.normalize))) {
    return `${here} normalised ${JSON.stringify(normalize)}, not ${JSON.stringify(header.key.normalize)}`;
  }
  if (key.nullsEqual !== header.key.nullsEqual) return `${here} with NULLs ${key.nullsEqual ? 'equal' : 'distinct'}`;
  if (key.defaultCountry !== header.key.defaultCountry) return `${here} with default country ${key.defaultCountry ?? '(none)'}`;
  return null;
}

function describePlanKey(header: PlanHeader): string {
  return `${header.key.name} (${header.key.columns.join(', ')})`;
}

function sorted(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

/** The columns merge fills now must be those the plan was made with (a column added or dropped since changes them). */
export function requirePlanMergeColumns(plan: OpenedPlan, mergeColumns: MergeColumn[]): void {
  const now = mergeColumns.map((c) => `${c.name}=${c.rule}`);
  if (now.join(',') !== plan.header.mergeColumns.join(',')) {
    throw new UsageError(
      `plan ${plan.path} merges ${plan.header.mergeColumns.join(', ') || '(no column)'}, but ${qualifiedName(plan.header.table)} now gives ${now.join(', ') || '(no column)'}: its columns changed since the plan; make a new plan; nothing was changed`,
    );
  }
}

/** A plan may be made on a machine whose clock runs a little ahead of this one's. */
const PLAN_CLOCK_SKEW_MS = 60_000;

/**
 * --max-plan-age: an older plan is refused, and so is one made in the future
 * (beyond a minute of clock skew): an edited or forged createdAt would
 * otherwise pass any age limit.
 */
export function requirePlanAge(plan: OpenedPlan, maxAgeMs: number, describeMax: string, now = Date.now()): void {
  const age = now - Date.parse(plan.header.createdAt);
  if (age < -PLAN_CLOCK_SKEW_MS) {
    throw new UsageError(
      `plan ${plan.path} says it was made ${plan.header.createdAt}, in the future (this machine's clock reads ${new Date(now).toISOString()}), so --max-plan-age ${describeMax} cannot vouch for it; make a new plan (or fix the clock); nothing was changed`,
    );
  }
  if (age > maxAgeMs) {
    const days = (age / 86_400_000).toFixed(1);
    throw new UsageError(
      `plan ${plan.path} was made ${plan.header.createdAt} (${days} days ago), more than --max-plan-age ${describeMax}; make a new plan or raise --max-plan-age; nothing was changed`,
    );
  }
}

/**
 * Plans (--plan-out, --plan-csv, --plan) are refused on a Citus distributed
 * table, before any file is opened or statement run (exit 2): a plan's
 * batches lock its rows with one FOR UPDATE over the table, which Citus
 * plans only for a single shard, and writing one joins the table in ways
 * Citus does not plan ("0A000 complex joins are only supported when all
 * distributed tables are co-located and joined on their distribution
 * columns").
 */
export function requirePlansSupported(table: LeadTable, flag: string): void {
  if (table.info.distribution?.kind !== 'distributed') return;
  throw new UsageError(
    `${flag} is not supported on a Citus distributed table (${qualifiedName(table.info)}) yet; use clean --key … (its dry run, then --execute); nothing was changed`,
  );
}
