import { createHash } from 'node:crypto';
import packageJson from '../../package.json' with { type: 'json' };
import type { Database } from '../db/database.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { planTableAndKey } from '../clean/plan-file/export-plan.js';
import { fingerprintSettingsStatement } from '../clean/plan-file/plan-fingerprint-sql.js';
import { suspectPlanRowsQuery } from './sql/suspects-sql.js';
import { CLEAN_DEFAULTS } from '../clean/defaults.js';
import { describeKeeperOrder } from '../clean/keeper-order.js';
import { PLAN_FORMAT, PLAN_FORMAT_VERSION, type PlanBodyLine, type PlanGroupLine, type PlanHeader } from '../clean/plan-file/plan-format.js';
import { readDatabaseIdentity } from '../clean/plan-file/plan-identity.js';

/**
 * The suspect groups as a clean plan (the `clean --plan-out` format): one
 * group line per suspect group, its status "needs review", the oldest row
 * kept, the others removed (delete mode: nothing is merged into the keeper),
 * every row's fingerprint, so `clean --plan F --execute` applies the groups
 * a reviewer accepted, through clean's batches, archive and restore. The
 * group id is the md5 of its sorted ids (a suspect group has no key value).
 * `groups`: each group's ids, as suspects reports them. Returns the lines
 * as text, the header carrying their digest.
 */
export async function suspectsPlan(database: Database, key: ResolvedKey, groups: readonly (readonly string[])[]): Promise<string> {
  const groupNos = groups.flatMap((ids, index) => ids.map(() => index));
  const ids = groups.flat();
  const rows = await database.db.transaction().execute(async (trx) => {
    await fingerprintSettingsStatement().execute(trx);
    return (await suspectPlanRowsQuery(key, groupNos, ids).execute(trx)).rows;
  });
  const byGroup = new Map<number, typeof rows>();
  for (const row of rows) byGroup.set(Number(row.group_no), [...(byGroup.get(Number(row.group_no)) ?? []), row]);
  const lines: PlanBodyLine[] = [];
  let rowsToRemove = 0;
  groups.forEach((groupIds, index) => {
    const members = byGroup.get(index) ?? [];
    const keeper = members.find((row) => row.keeper);
    // a row deleted since the report leaves a group of one, or none: nothing to plan
    if (keeper === undefined || members.length < 2) return;
    const line: PlanGroupLine = {
      type: 'group',
      group: createHash('md5')
        .update(`suspects:${groupIds.join(',')}`)
        .digest('hex'),
      key: {},
      keep: keeper.id,
      remove: members.filter((row) => !row.keeper).map((row) => row.id),
      fingerprints: Object.fromEntries(members.map((row) => [row.id, row.fingerprint])),
      review: 'needs review',
    };
    rowsToRemove += line.remove.length;
    lines.push(line);
  });
  const groupLines = lines.length;
  lines.push({ type: 'end', lines: groupLines });
  const body = lines.map((line) => `${JSON.stringify(line)}\n`).join('');
  const header: PlanHeader = {
    type: 'header',
    format: PLAN_FORMAT,
    formatVersion: PLAN_FORMAT_VERSION,
    toolVersion: packageJson.version,
    createdAt: new Date().toISOString(),
    database: await readDatabaseIdentity(database.db),
    ...planTableAndKey(key),
    keep: 'oldest',
    keeperOrder: describeKeeperOrder('oldest', key.table),
    mode: 'delete',
    mergeRules: {},
    mergeColumns: [],
    batchSize: CLEAN_DEFAULTS.batchSize,
    batchRows: CLEAN_DEFAULTS.batchRows,
    totals: { groups: groupLines, rowsToRemove, skippedGroups: 0, childRows: {} },
    digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
  };
  return `${JSON.stringify(header)}\n${body}`;
}
