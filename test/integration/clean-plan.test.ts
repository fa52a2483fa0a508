import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planCleanSettings, resolveCleanOptions, resolveCleanSettings } from '../../src/cli/clean-flags.js';
import { writePlanFiles } from '../../src/cli/plan-file.js';
import { applyClean } from '../../src/clean/apply-clean.js';
import { ensureArchive } from '../../src/clean/archive.js';
import type { CleanOptions, CleanResult } from '../../src/clean/types.js';
import { checkPlan } from '../../src/clean/plan-file/check-plan.js';
import { planClean } from '../../src/clean/preview.js';
import type { PlanGroupLine } from '../../src/clean/plan-file/plan-format.js';
import { readDatabaseIdentity } from '../../src/clean/plan-file/plan-identity.js';
import { resolvePlanKey } from '../../src/clean/plan-file/plan-match.js';
import { openPlan, type OpenedPlan } from '../../src/clean/plan-file/read-plan.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { UsageError } from '../../src/errors.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { countRows, PLAIN_KEY_SETTINGS, tableChecksum } from '../support/table-facts.js';

/** Hand-written: every row the oldest-first policy removes under device_id + phone, with its keeper. */
const VICTIMS = `select id, keeper from (
    select id, first_value(id) over w as keeper, row_number() over w as rn, count(*) over (partition by device_id, phone) as n
    from leads where device_id is not null and phone is not null
    window w as (partition by device_id, phone order by created_at, id)) x
  where rn > 1 and n > 1`;

describe.each(TEST_TARGETS.filter((t) => t.available))('clean --plan on $label', (target) => {
  let test: TestDatabase;
  let folder: string;
  let planPath: string;

  beforeAll(async () => {
    test = await target.open();
    folder = mkdtempSync(join(tmpdir(), 'lead-dedupe-plan-'));
  });
  afterAll(async () => {
    await test?.close();
    rmSync(folder, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await test.exec('drop table if exists lead_badges;\n');
    await seed(test.database, { table: 'leads', rows: 2500, scenario: 'production', replace: true });
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    planPath = join(folder, `plan-${Math.random().toString(36).slice(2)}.jsonl`);
  });

  const count = (text: string) => countRows(test, text);
  const ids = async (text: string) => (await test.query<{ id: string }>(text)).map((row) => String(row.id)).sort();
  const checksums = async () => ({ leads: await tableChecksum(test, 'leads'), activities: await tableChecksum(test, 'lead_activities') });

  async function cleanOptions(overrides: Partial<CleanOptions> = {}): Promise<CleanOptions> {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], PLAIN_KEY_SETTINGS).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: 40, ...overrides };
  }

  async function writePlan(overrides: Partial<CleanOptions> = {}): Promise<void> {
    await writePlanFiles(test.database, await cleanOptions(overrides), { plan: planPath });
  }

  /** The options a plan is applied with, as the command derives them: key and settings from the plan's header. */
  async function planOptions(plan: OpenedPlan, request: { table?: string; keyText?: string } = {}): Promise<CleanOptions> {
    const identity = await readDatabaseIdentity(test.database.db);
    const key = await resolvePlanKey(test.database.db, plan, identity, { ...request, keySettings: PLAIN_KEY_SETTINGS, archiveSchema: 'lead_dedupe' });
    return { key, ...planCleanSettings(plan.header, {}, resolveCleanSettings({})) };
  }

  async function applyPlan(hooks: Parameters<typeof applyClean>[2] = {}): Promise<CleanResult> {
    const plan = await openPlan(planPath);
    try {
      return await applyClean(test.database, await planOptions(plan), hooks, plan);
    } finally {
      plan.close();
    }
  }

  const planLines = () => readFileSync(planPath, 'utf8').split('\n').filter(Boolean);
  const groupsOf = () =>
    planLines()
      .map((line) => JSON.parse(line) as { type: string })
      .filter((line): line is PlanGroupLine => line.type === 'group');
  /** Rewrites the plan's body lines (the header keeps its digest: the plan reads as edited). */
  function editPlan(edit: (lines: string[]) => string[]): void {
    writeFileSync(planPath, `${edit(planLines()).join('\n')}\n`);
  }
  const groupLineIndex = (lines: string[], group: string) => lines.findIndex((line) => line.includes(`"group":"${group}"`));

  it('plan then apply does exactly what clean --execute does on the same data: same rows removed, same merges, same archive', async () => {
    const expectedVictims = await ids(`select id from (${VICTIMS}) v`);
    const direct = await applyClean(test.database, await cleanOptions());
    const afterDirect = await checksums();
    const directArchive = await test.query(
      `select row_id, group_id, keeper_id, row_data from lead_dedupe.lead_dedupe_removed where run_id = ${direct.runId} order by row_id`,
    );
    const directKeepers = await test.query(
      `select row_id, group_id, merged_columns, row_data, merged_data from lead_dedupe.lead_dedupe_keepers where run_id = ${direct.runId} order by row_id`,
    );

    await seed(test.database, { table: 'leads', rows: 2500, scenario: 'production', replace: true });
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    await writePlan();
    expect(
      groupsOf()
        .flatMap((group) => group.remove)
        .sort(),
    ).toEqual(expectedVictims);
    const result = await applyPlan();

    expect(result.status).toBe('done');
    expect(result.plan).toMatchObject({ edited: false, staleChanged: 0, staleGone: 0, alreadyDone: 0, newRows: { rows: 0 } });
    expect(result.rowsRemoved).toBe(expectedVictims.length);
    expect(await checksums()).toEqual(afterDirect);
    expect(
      await test.query(`select row_id, group_id, keeper_id, row_data from lead_dedupe.lead_dedupe_removed where run_id = ${result.runId} order by row_id`),
    ).toEqual(directArchive);
    expect(
      await test.query(
        `select row_id, group_id, merged_columns, row_data, merged_data from lead_dedupe.lead_dedupe_keepers where run_id = ${result.runId} order by row_id`,
      ),
    ).toEqual(directKeepers);
    expect(directKeepers.length).toBeGreaterThan(0);
  });

  it.each([
    { keep: 'oldest', nullsEqual: false, order: 'created_at asc nulls last, id asc' },
    { keep: 'newest', nullsEqual: true, order: 'created_at desc nulls last, id desc' },
    { keep: 'most-complete', nullsEqual: false, order: 'filled desc, created_at asc nulls last, id asc' },
  ] as const)(
    'each group in the plan, keeper first, and each row fingerprint equal a hand-written ranking: --keep $keep, NULLs equal $nullsEqual',
    async ({ keep, nullsEqual, order }) => {
      const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
      const [key] = resolveKeys(table, ['device-phone'], { ...PLAIN_KEY_SETTINGS, nullsEqual }).keys;
      await writePlanFiles(test.database, { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: 40, keep }, { plan: planPath });
      const groups = planLines()
        .map((line) => JSON.parse(line) as PlanGroupLine)
        .filter((line) => line.type === 'group');
      const planned = groups.map((group) => [group.keep, ...[...group.remove].sort()].join(' ')).sort();
      const ranked = await test.query<{
        ids: string;
      }>(`select (array_agg(id order by rn))[1] || ' ' || array_to_string(array(select unnest((array_agg(id order by rn))[2:]) order by 1), ' ') as ids
      from (select id::text, device_id, phone, row_number() over w as rn, count(*) over (partition by device_id, phone) as n
            from (select l.*, (select count(*) from jsonb_each_text(to_jsonb(l)) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled
                  from leads l${nullsEqual ? '' : ' where device_id is not null and phone is not null'}) as l
            window w as (partition by device_id, phone order by ${order})) as r
      where n > 1 group by device_id, phone`);
      expect(planned.length).toBeGreaterThan(50);
      expect(planned).toEqual(ranked.map((row) => row.ids).sort());
      const fingerprints = Object.fromEntries(groups.flatMap((group) => Object.entries(group.fingerprints)));
      const stored = new Map(
        (await test.query<{ id: string; fingerprint: string }>('select id::text, md5(l::text) as fingerprint from leads l')).map((row) => [
          row.id,
          row.fingerprint,
        ]),
      );
      expect(Object.fromEntries(Object.keys(fingerprints).map((id) => [id, stored.get(id)]))).toEqual(fingerprints);
    },
  );

  it('--plan-csv shows each row, kept and removed, as stored: its key columns and created time beside the normalised key (oracle: the rows by id)', async () => {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], { ...PLAIN_KEY_SETTINGS, normalize: { phone: 'e164' }, defaultCountry: 'MY' }).keys;
    const csvPath = join(folder, 'plan.csv');
    await writePlanFiles(test.database, { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: 40 }, { csv: csvPath });
    const rows = parse(readFileSync(csvPath), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([
      'group_id',
      'key_device_id',
      'key_phone',
      'id',
      'action',
      'stored_device_id',
      'stored_phone',
      'stored_created_at',
      'merged_columns',
    ]);
    const stored = new Map(
      (
        await test.query<{ id: string; device_id: number; phone: string | null; created_at: Date }>(
          'select id::text as id, device_id, phone, created_at from leads',
        )
      ).map((row) => [row.id, row]),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const oracle = stored.get(row.id!)!;
      expect([row.stored_device_id, row.stored_phone, new Date(row.stored_created_at!).getTime()]).toEqual([
        String(oracle.device_id),
        oracle.phone ?? '',
        new Date(oracle.created_at).getTime(),
      ]);
    }
    // the normalised key merged different spellings: the CSV shows them, and each group's keeper is its oldest row
    const groups = new Map<string, Record<string, string>[]>();
    for (const row of rows) groups.set(row.group_id!, [...(groups.get(row.group_id!) ?? []), row]);
    expect([...groups.values()].some((group) => new Set(group.map((row) => row.stored_phone)).size > 1)).toBe(true);
    for (const group of groups.values()) {
      const [keeper, ...removed] = group;
      expect(keeper!.action).toBe('keep');
      for (const row of removed) expect(new Date(row.stored_created_at!).getTime()).toBeGreaterThanOrEqual(new Date(keeper!.stored_created_at!).getTime());
    }
  });

  it('the report of a dry run that writes a plan, counted from the plan, is the dry run report', async () => {
    // a child unique index that blocks some groups, so the plan has skips
    await test.exec(`create table lead_badges (id serial primary key, lead_id bigint not null references leads (id), badge text not null, unique (lead_id, badge));
insert into lead_badges (lead_id, badge) select id, 'gold' from leads where device_id is not null and phone is not null and id % 7 = 0;
`);
    const options = await cleanOptions({ sampleGroups: 12 });
    const { durationMs: _a, ...dryRun } = await planClean(test.database, options);
    const { durationMs: _b, ...fromPlan } = (await writePlanFiles(test.database, options, { plan: planPath })).report;
    await test.exec('drop table lead_badges;\n');
    expect(fromPlan).toEqual(dryRun);
    expect(dryRun.skippedGroups).toBeGreaterThan(0);
    expect(dryRun.keepersToMerge).toBeGreaterThan(0);
  });

  it('writes the groups in key order, then the skipped groups by id, as a hand-written ordering of the same groups does', async () => {
    await test.exec(`create table lead_badges (id serial primary key, lead_id bigint not null references leads (id), badge text not null, unique (lead_id, badge));
insert into lead_badges (lead_id, badge) select id, 'gold' from leads where device_id is not null and phone is not null and id % 7 = 0;
`);
    await writePlan({ mode: 'delete' });
    await test.exec('drop table lead_badges;\n');
    const lines = readFileSync(planPath, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line) as { type: string; group?: string });
    const kinds = lines.map((line) => line.type).filter((type) => type === 'group' || type === 'skipped');
    const firstSkipped = kinds.indexOf('skipped');
    expect(firstSkipped).toBeGreaterThan(0);
    expect(kinds.slice(firstSkipped).every((type) => type === 'skipped')).toBe(true);
    const written = (type: string) => lines.filter((line) => line.type === type).map((line) => line.group!);
    // every duplicate group by hand, ordered by its key values as jsonb (the plan's order), then by its id
    const byKey = await test.query<{ group_id: string }>(`select md5(jsonb_build_array(device_id, phone)::text) as group_id
      from leads where device_id is not null and phone is not null group by device_id, phone having count(*) > 1
      order by jsonb_build_array(device_id, phone), 1`);
    const planned = new Set(written('group'));
    expect(written('group')).toEqual(byKey.map((row) => row.group_id).filter((id) => planned.has(id)));
    const skipped = written('skipped');
    expect(skipped).toEqual([...skipped].sort());
    expect(new Set([...planned, ...skipped])).toEqual(new Set(byKey.map((row) => row.group_id)));
  });

  it('skips whole and names as stale a group with an updated loser, an updated keeper or a deleted row; leaves a copy inserted since in place', async () => {
    await writePlan({ mode: 'delete' });
    const [changedLoser, changedKeeper, deletedRow, grown, ...others] = groupsOf();
    await test.exec(`update leads set name = 'changed after the plan' where id = ${changedLoser!.remove[0]};
update leads set email = 'keeper@changed.example' where id = ${changedKeeper!.keep};
delete from lead_activities where lead_id = ${deletedRow!.remove[0]};
delete from leads where id = ${deletedRow!.remove[0]};
insert into leads (user_id, device_id, phone, name, created_at) select user_id, device_id, phone, 'late copy', created_at - interval '1 day' from leads where id = ${grown!.keep};
`);
    const lateCopy = await ids(`select id from leads where name = 'late copy'`);
    const before = await checksums();

    const plan = await openPlan(planPath);
    const check = await checkPlan(test.database, await planOptions(plan), plan);
    plan.close();
    expect(check).toMatchObject({ staleChanged: 2, staleGone: 1, alreadyDone: 0, unchanged: others.length + 1, newRows: { groups: 1, rows: 1 } });
    expect(check.staleSample.map((group) => group.groupId).sort()).toEqual([changedLoser!.group, changedKeeper!.group, deletedRow!.group].sort());
    expect(await checksums()).toEqual(before);

    const result = await applyPlan();

    expect(result.plan).toMatchObject({ staleChanged: 2, staleGone: 1, newRows: { groups: 1, rows: 1, sample: [{ groupId: grown!.group, rows: 1 }] } });
    const stale = [changedLoser!, changedKeeper!, deletedRow!];
    const staleIds = stale.flatMap((group) => [group.keep, ...group.remove]).filter((id) => id !== deletedRow!.remove[0]);
    expect(await count(`select id from leads where id in (${staleIds.join(',')})`)).toBe(staleIds.length);
    const applied = [grown!, ...others].flatMap((group) => group.remove).sort();
    expect(await ids(`select row_id as id from lead_dedupe.lead_dedupe_removed where run_id = ${result.runId}`)).toEqual(applied);
    expect(await count(`select id from leads where id in (${applied.join(',')})`)).toBe(0);
    // the copy made after the plan is not the plan's to remove, even though it is now the oldest of its group
    expect(await ids(`select id from leads where name = 'late copy'`)).toEqual(lateCopy);
    const skipped = await test.query<{ group_id: string; reason: string }>(
      `select group_id, reason from lead_dedupe.lead_dedupe_skipped where run_id = ${result.runId} order by group_id`,
    );
    expect(skipped.map((row) => row.group_id)).toEqual(stale.map((group) => group.group).sort());
    expect(skipped.find((row) => row.group_id === deletedRow!.group)?.reason).toBe(`stale (a row is gone since the plan): id ${deletedRow!.remove[0]}`);
  });

  it('applies hand edits: a group deleted from the plan is left alone, a moved keeper is kept; the run is recorded as edited', async () => {
    await writePlan({ mode: 'delete' });
    const [removedGroup, movedGroup] = groupsOf();
    const newKeeper = movedGroup!.remove[0]!;
    editPlan((lines) => {
      const moved = JSON.parse(lines[groupLineIndex(lines, movedGroup!.group)]!) as PlanGroupLine;
      moved.remove = [moved.keep, ...moved.remove.slice(1)];
      moved.keep = newKeeper;
      return lines
        .map((line) => (line.includes(movedGroup!.group) ? JSON.stringify(moved) : line))
        .filter((line) => !line.includes(`"group":"${removedGroup!.group}"`));
    });

    const result = await applyPlan();

    expect(result.plan?.edited).toBe(true);
    const removedIds = [removedGroup!.keep, ...removedGroup!.remove];
    expect(await count(`select id from leads where id in (${removedIds.join(',')})`)).toBe(removedIds.length);
    expect(await ids(`select id from leads where device_id = ${movedGroup!.key.device_id} and phone = '${movedGroup!.key.phone}'`)).toEqual([newKeeper]);
    expect(await ids(`select distinct keeper_id as id from lead_dedupe.lead_dedupe_removed where group_id = '${movedGroup!.group}'`)).toEqual([newKeeper]);
    const recorded = (
      await test.query<{ edited: boolean; id: string }>(
        `select (options -> 'plan' ->> 'edited')::boolean as edited, options -> 'plan' ->> 'id' as id from lead_dedupe.lead_dedupe_runs where id = ${result.runId}`,
      )
    )[0];
    expect(recorded).toEqual({ edited: true, id: JSON.parse(planLines()[0]!).digest });
  });

  it('refuses a keeper moved to an id of another group, whichever way it was edited, before changing anything', async () => {
    await writePlan({ mode: 'delete' });
    const [first, second] = groupsOf();
    const before = await checksums();
    const attempt = async () => {
      const error = await applyPlan().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    };
    // only "keep" changed: not a row of the group
    editPlan((lines) => lines.map((line) => (line.includes(first!.group) ? line.replace(`"keep":"${first!.keep}"`, `"keep":"${second!.keep}"`) : line)));
    expect(await attempt()).toMatch(/line 2: \$\.keep: id \d+ is not a row of this group/);
    // the other group's id copied in with its fingerprint: one id in two groups
    await writePlan({ mode: 'delete' });
    editPlan((lines) =>
      lines.map((line) => {
        if (!line.includes(first!.group)) return line;
        const group = JSON.parse(line) as PlanGroupLine;
        group.remove.push(group.keep);
        group.keep = second!.keep;
        group.fingerprints[second!.keep] = second!.fingerprints[second!.keep]!;
        return JSON.stringify(group);
      }),
    );
    expect(await attempt()).toMatch(new RegExp(`line 3: id ${second!.keep} is also in the group of line 2`));
    // ... and with the other group deleted: the row does not carry this group's key
    editPlan((lines) => lines.filter((line) => !line.includes(`"group":"${second!.group}"`)));
    expect(await attempt()).toMatch(new RegExp(`line 2: id ${second!.keep} does not carry the key of group ${first!.group}`));
    expect(await checksums()).toEqual(before);
    expect(await count(`select 1 from pg_tables where schemaname = 'lead_dedupe'`)).toBe(0);
  });

  it('re-checks the key under the lock: an id added by hand whose fingerprint matches again by its batch is skipped, not removed', async () => {
    await writePlan({ mode: 'delete', batchSize: 20 });
    const groups = groupsOf();
    const target = groups[groups.length - 1]!;
    const other = groups[0]!;
    const intruder = other.keep;
    // hand edit: the other group is gone from the plan, its keeper (true fingerprint) added to the last group's removals
    editPlan((lines) =>
      lines
        .filter((line) => !line.includes(`"group":"${other.group}"`))
        .map((line) => {
          if (!line.includes(`"group":"${target.group}"`)) return line;
          const group = JSON.parse(line) as PlanGroupLine;
          group.remove.push(intruder);
          group.fingerprints[intruder] = other.fingerprints[intruder]!;
          return JSON.stringify(group);
        }),
    );
    // changed while the plan is loaded (so it reads as stale there, not as foreign), changed back when the first batch commits
    // (a trigger on the run's totals: the same on PGlite, which runs no second session, as on the server), before its batch locks it
    await ensureArchive(test.database.db, 'lead_dedupe');
    await test.exec(`drop table if exists intruder_saved;
create table intruder_saved as select * from leads where id = ${intruder};
update leads set name = coalesce(name, '') || ' (edited)' where id = ${intruder};
create or replace function change_back() returns trigger language plpgsql as $$ begin update public.leads as l set name = s.name from public.intruder_saved as s where l.id = s.id; return null; end $$;
create trigger change_back after update of batches_done on lead_dedupe.lead_dedupe_runs for each row when (new.batches_done = 1 and old.batches_done = 0) execute function change_back();
`);
    const activities = await count(`select * from lead_activities where lead_id = ${intruder}`);
    const result = await applyPlan();

    // a run with skipped groups is done (exit 0); the group is skipped whole and says why
    expect(result.status).toBe('done');
    expect(await count(`select * from leads where id = ${intruder}`)).toBe(1);
    expect(await count(`select * from lead_activities where lead_id = ${intruder}`)).toBe(activities);
    const targetIds = [target.keep, ...target.remove];
    expect(await count(`select * from leads where id in (${targetIds.join(',')})`)).toBe(targetIds.length);
    expect(await count(`select * from lead_dedupe.lead_dedupe_removed where run_id = ${result.runId} and group_id = '${target.group}'`)).toBe(0);
    const skipped = await test.query<{ reason: string }>(
      `select reason from lead_dedupe.lead_dedupe_skipped where run_id = ${result.runId} and group_id = '${target.group}'`,
    );
    expect(skipped.map((row) => row.reason)).toEqual([`stale (a row changed since the plan): id ${intruder} no longer carries the group's key`]);
    expect(result.plan?.staleChanged).toBe(1);
    // the intruder is back as it was: its fingerprint matched when its batch locked it
    expect(await count(`select * from leads as l join intruder_saved as s on s.id = l.id where l.name is not distinct from s.name`)).toBe(1);
    // every other group of the plan was applied
    const applied = groups
      .slice(1, -1)
      .flatMap((group) => group.remove)
      .sort();
    expect(await ids(`select row_id as id from lead_dedupe.lead_dedupe_removed where run_id = ${result.runId}`)).toEqual(applied);
    await test.exec('drop table intruder_saved;\ndrop trigger change_back on lead_dedupe.lead_dedupe_runs;\ndrop function change_back();\n');
  });

  it('refuses a plan made for another database, table or key, and a truncated or malformed file, naming the line', async () => {
    await writePlan();
    const before = await checksums();
    const refusal = async (request: { table?: string; keyText?: string } = {}) => {
      let plan: OpenedPlan | undefined;
      try {
        plan = await openPlan(planPath);
        await applyClean(test.database, await planOptions(plan, request), {}, plan);
        return 'applied';
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      } finally {
        plan?.close();
      }
    };
    await test.exec('drop table if exists leads_copy;\ncreate table leads_copy (like leads including all);\n');
    expect(await refusal({ table: 'leads_copy' })).toBe(`plan ${planPath} is for table public.leads; --table names public.leads_copy; nothing was changed`);
    expect(await refusal({ keyText: 'device_id,phone,email' })).toBe(
      `plan ${planPath} is for key device-phone (device_id, phone); key device_id,phone,email here is (device_id, phone, email); nothing was changed`,
    );
    const lines = planLines();
    const header = JSON.parse(lines[0]!);
    writeFileSync(planPath, `${JSON.stringify({ ...header, database: { ...header.database, name: 'crm_other' } })}\n${lines.slice(1).join('\n')}\n`);
    const database = (await test.query<{ name: string }>('select current_database() as name'))[0]!.name;
    expect(await refusal()).toBe(`plan ${planPath} was made on database crm_other; this is database ${database}; nothing was changed`);
    if (header.database.systemIdentifier !== null) {
      writeFileSync(planPath, `${JSON.stringify({ ...header, database: { ...header.database, systemIdentifier: '1' } })}\n${lines.slice(1).join('\n')}\n`);
      expect(await refusal()).toMatch(/of another server \(system identifier 1; this one is \d+\)/);
    }
    // cut at a line end: the end line is missing
    writeFileSync(planPath, `${lines.slice(0, 6).join('\n')}\n`);
    expect(await refusal()).toBe(`plan ${planPath} ends at line 6 without its end line: the file is truncated or incomplete; nothing was changed`);
    // cut inside a line
    writeFileSync(planPath, `${lines.slice(0, 6).join('\n')}\n${lines[6]!.slice(0, 40)}`);
    expect(await refusal()).toMatch(new RegExp(`^plan ${planPath} line 7: not valid JSON`));
    writeFileSync(planPath, `${lines.slice(0, 3).join('\n')}\n{"type":"group","group":"x"}\n${lines.slice(3).join('\n')}\n`);
    expect(await refusal()).toBe(`plan ${planPath} line 4: $.group: must be an md5 (32 hex digits); nothing was changed`);
    writeFileSync(planPath, lines.slice(1).join('\n'));
    expect(await refusal()).toMatch(/line 1: not a plan header/);
    expect(await checksums()).toEqual(before);
  });

  it('an interrupted apply, applied again, does the rest: groups already done are not applied twice', async () => {
    await writePlan({ mode: 'delete', batchSize: 25 });
    const planned = groupsOf()
      .flatMap((group) => group.remove)
      .sort();
    const stop = new AbortController();
    const first = await applyPlan({ signal: stop.signal, onProgress: () => stop.abort() });
    expect(first.status).toBe('interrupted');
    expect(first.batchesDone).toBe(1);
    const doneFirst = first.groups;

    const second = await applyPlan();

    expect(second.status).toBe('done');
    expect(second.plan).toMatchObject({ alreadyDone: doneFirst, staleChanged: 0, staleGone: 0 });
    expect(first.rowsRemoved + second.rowsRemoved).toBe(planned.length);
    expect(await ids(`select row_id as id from lead_dedupe.lead_dedupe_removed`)).toEqual(planned);
  });

  it('restore of a plan run puts the tables back as they were before the apply', async () => {
    await writePlan();
    await test.exec(`update leads set email = null where id in (select keeper from (${VICTIMS}) v where keeper % 3 = 0);\n`);
    // the plan is stale for those groups now: make a new one, then change a row so one group is stale
    await writePlan();
    const [stale] = groupsOf();
    await test.exec(`update leads set name = 'edited' where id = ${stale!.keep};\n`);
    const before = await checksums();

    const result = await applyPlan();
    expect(result.rowsMerged).toBeGreaterThan(0);
    expect(result.plan?.staleChanged).toBe(1);
    expect(await checksums()).not.toEqual(before);

    await restoreRun(test.database, { runId: result.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await checksums()).toEqual(before);
  });
});
