import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { serverClientConfig } from '../../src/db/server-client-config.js';
import { expect } from 'vitest';
import { runCli } from './cli.js';

/**
 * What a read-only server must allow and refuse, through the built binary,
 * for both the read-only-database suite and the hot-standby suite. `url`
 * points at the read-only side; the oracles are hand-written SELECTs run
 * there too. The database was prepared by `prepareReadOnlyFixture` on the
 * writable side.
 */

/** The constraint the fixture adds (user_id, id is unique by construction). */
export const FIXTURE_CONSTRAINT = 'leads_user_id_id_key';

/** Seed, one partial clean run (so runs and restore have something; 60 groups give keepers whose name was merged), and one constraint. Runs on the WRITABLE side. */
export async function prepareReadOnlyFixture(url: string): Promise<void> {
  for (const args of [
    ['seed', '--rows', '2000'],
    ['clean', '--key', 'device-phone', '--execute', '--max-groups', '60', '--batch-size', '4'],
    ['constraint', 'add', '--key', 'user_id,id', '--even-if-implied', '--execute'], // the primary key (id) already implies the key: build it anyway
  ]) {
    const result = await runCli([...args, '--database', url]);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  }
  // The application changes a column the merge filled on one keeper: restore must leave it (a conflict, listed).
  const changed = await query(
    url,
    `update leads t set name = 'Changed by the app'
    from (select row_id from lead_dedupe.lead_dedupe_keepers where run_id = 1 and 'name' = any(merged_columns) order by row_id limit 1) as k
    where t.id::text = k.row_id returning t.id`,
  );
  expect(changed).toHaveLength(1);
}

async function query<R>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client(await serverClientConfig(url));
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Everything a writing command could change: table contents, archive, indexes. */
async function fingerprint(url: string): Promise<string> {
  const [row] = await query<{ f: string }>(
    url,
    `select concat_ws('|',
      (select md5(string_agg(t::text, ',' order by id)) from leads t),
      (select md5(string_agg(t::text, ',' order by id)) from lead_activities t),
      (select string_agg(id || ':' || status, ',' order by id) from lead_dedupe.lead_dedupe_runs),
      (select count(*) from pg_index),
      (select count(*) from pg_class)) as f`,
  );
  return row!.f;
}

const cli = (url: string, ...args: string[]) => runCli([...args, '--database', url]);

export async function expectReadCommandsWork(url: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-ro-'));
  try {
    const [groups] = await query<{ groups: string; surplus: string; rows: string; moved: string }>(
      url,
      `
      select count(*) as groups, coalesce(sum(n - 1), 0) as surplus, coalesce(sum(n), 0) as rows,
             (select count(*) from lead_activities where lead_id in (
                select id from (select id, row_number() over (partition by device_id, phone order by created_at, id) as rn
                                from leads where device_id is not null and phone is not null) x where rn > 1)) as moved
      from (select count(*) as n from leads where device_id is not null and phone is not null group by device_id, phone having count(*) > 1) g`,
    );
    expect(Number(groups!.groups)).toBeGreaterThan(0);

    const scanned = await cli(url, 'scan', '--key', 'device-phone', '--format', 'json', '--details', join(dir, 'details.csv'));
    expect(scanned.code, scanned.stderr).toBe(0);
    const key = JSON.parse(scanned.stdout).keys[0];
    expect({ groups: key.groups, surplus: key.surplus }).toEqual({ groups: Number(groups!.groups), surplus: Number(groups!.surplus) });
    const detailLines = readFileSync(join(dir, 'details.csv'), 'utf8').trim().split('\n');
    expect(detailLines.length - 1).toBe(Number(groups!.rows));

    // scan --since last keeps its watermarks in a file here: the database refuses them (exit 2, pointing at --state-file)
    const refusedWatermarks = await cli(url, 'scan', '--key', 'device-phone', '--since', 'last');
    expect(refusedWatermarks.code).toBe(2);
    expect(refusedWatermarks.stderr).toMatch(/^lead-dedupe: scan --since last keeps its watermarks in .*; give --state-file <path> to keep them in a file\n$/);
    const state = join(dir, 'watermarks.json');
    const first = await cli(url, 'scan', '--key', 'device-phone', '--since', 'last', '--state-file', state, '--format', 'json');
    expect(first.code, first.stderr).toBe(0);
    const firstKey = JSON.parse(first.stdout).keys[0];
    expect({ groups: firstKey.groupsTouched, surplus: firstKey.newSurplus }).toEqual({ groups: Number(groups!.groups), surplus: Number(groups!.surplus) });
    expect(JSON.parse(readFileSync(state, 'utf8')).watermarks[0].watermark).toBe(firstKey.until);
    const next = await cli(url, 'scan', '--key', 'device-phone', '--since', 'last', '--state-file', state, '--format', 'json');
    expect(next.code, next.stderr).toBe(0);
    expect(Date.parse(JSON.parse(next.stdout).keys[0].since)).toBe(Date.parse(firstKey.until) - 300_000);

    // suspects reads in one transaction of plain SELECTs (CTEs, no temporary table) and SET LOCAL
    const suspected = await cli(url, 'suspects', '--key', 'device-phone', '--format', 'json');
    expect(suspected.code, suspected.stderr).toBe(0);
    expect(JSON.parse(suspected.stdout).blockCounts.map((c: { block: string }) => c.block)).toEqual(['same e-mail', 'same phone', 'same name on a device']);
    // the report with its suspects section: the same read-only statements, the same pairs
    const reportFile = join(dir, 'report.html');
    const reported = await cli(url, 'report', '--key', 'device-phone', '--suspects', '--output', reportFile, '--quiet');
    expect(reported.code, reported.stderr).toBe(0);
    const reportHtml = readFileSync(reportFile, 'utf8');
    expect(reportHtml).toContain('<h2>Probably the same lead, not caught by the key</h2>');
    const reportData = JSON.parse(reportHtml.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!);
    const pairIds = (report: { groups: { pairs: { a: string; b: string }[] }[] }) => report.groups.flatMap((group) => group.pairs.map((p) => `${p.a}-${p.b}`));
    expect(pairIds(reportData.suspects)).toEqual(pairIds(JSON.parse(suspected.stdout)));

    const runs = await cli(url, 'runs', '--format', 'json');
    expect(runs.code, runs.stderr).toBe(0);
    const runIds = (await query<{ id: string }>(url, 'select id::text as id from lead_dedupe.lead_dedupe_runs order by id')).map((r) => Number(r.id));
    expect((JSON.parse(runs.stdout).runs as { runId?: number; id?: number }[]).map((r) => r.runId ?? r.id).sort()).toEqual(runIds);

    const status = await cli(url, 'constraint', 'status', '--key', 'user_id,id', '--key', 'device-phone', '--format', 'json');
    expect(status.code, status.stderr).toBe(0);
    const constraints = (await query<{ conname: string }>(url, `select conname from pg_constraint where conrelid = 'leads'::regclass and contype = 'u'`)).map(
      (r) => r.conname,
    );
    expect(constraints).toEqual([FIXTURE_CONSTRAINT]);
    expect((JSON.parse(status.stdout).keys as { protectedBy: string[] }[]).map((k) => k.protectedBy)).toEqual([constraints, []]);

    // the primary key (id) rejects every row the (user_id, id) constraint does: skip arbitrates on it (issue 25); a race can
    // still raise the other's 23505, hence the opt-in (upsert-arbiter.ts)
    const upsert = await cli(
      url,
      'sql',
      'upsert',
      '--key',
      'user_id,id',
      '--insert-columns',
      'id,user_id,phone',
      '--on-duplicate',
      'skip',
      '--retry-on-other-index',
    );
    expect(upsert.code, upsert.stderr).toBe(0);
    expect(upsert.stderr).toBe('');
    expect(upsert.stdout).toContain('on conflict ("id") do update set "id" = "stored"."id"');
    const unprotected = await cli(url, 'sql', 'upsert', '--key', 'device-phone', '--on-duplicate', 'skip');
    expect(unprotected.code, unprotected.stderr).toBe(0);
    expect(unprotected.stderr).toContain('nothing enforces key device-phone yet');

    const printed = await cli(url, 'constraint', 'add', '--key', 'device-phone', '--print-sql');
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('create unique index concurrently "leads_device_id_phone_key"');

    const dry = await cli(url, 'clean', '--key', 'device-phone', '--mode', 'delete', '--format', 'json');
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect({ groups: plan.groups, rows: plan.rowsToRemove, moved: plan.childRows[0].rows }).toEqual({
      groups: Number(groups!.groups),
      rows: Number(groups!.surplus),
      moved: Number(groups!.moved),
    });

    const [archived] = await query<{ removed: string; keepers: string; moved_back: string }>(
      url,
      `
      select (select count(*) from lead_dedupe.lead_dedupe_removed where run_id = 1) as removed,
             (select count(*) from leads where id::text in (select row_id from lead_dedupe.lead_dedupe_keepers where run_id = 1)) as keepers,
             (select count(*) from lead_activities c join lead_dedupe.lead_dedupe_moved m
                on m.run_id = 1 and jsonb_build_array(c.id) = m.child_pk and to_jsonb(c.lead_id) = m.new_value) as moved_back`,
    );
    // Hand-written: a merged column is a conflict when it no longer holds what the merge wrote (compared as jsonb);
    // a keeper is restored when at least one of its merged columns is not.
    const [conflicts] = await query<{ total: string; keepers: string; sample: string }>(
      url,
      `
      with c as (select k.row_id, m.name, (to_jsonb(t) -> m.name) is distinct from (k.merged_data -> m.name) as conflict
                 from lead_dedupe.lead_dedupe_keepers k cross join unnest(k.merged_columns) as m(name)
                 join leads t on t.id::text = k.row_id
                 where k.run_id = 1)
      select count(*) filter (where conflict) as total,
             (select count(*) from (select row_id from c group by row_id having bool_or(not conflict)) x) as keepers,
             string_agg(row_id || '.' || name, ',') filter (where conflict) as sample
      from c`,
    );
    const restore = await cli(url, 'restore', '1', '--format', 'json');
    expect(restore.code, restore.stderr).toBe(0);
    const rehearsal = JSON.parse(restore.stdout);
    expect(Number(archived!.removed)).toBeGreaterThan(0);
    expect(Number(conflicts!.total)).toBe(1);
    expect({
      rows: rehearsal.rowsReinserted,
      keepers: rehearsal.keepersRestored,
      conflicts: rehearsal.keeperConflicts.total,
      sample: rehearsal.keeperConflicts.sample.map((c: { keeperId: string; column: string }) => `${c.keeperId}.${c.column}`).join(','),
      moved: rehearsal.childRows[0].movedBack,
      dryRun: rehearsal.dryRun,
    }).toEqual({
      rows: Number(archived!.removed),
      keepers: Number(conflicts!.keepers),
      conflicts: Number(conflicts!.total),
      sample: conflicts!.sample,
      moved: Number(archived!.moved_back),
      dryRun: 'counted',
    });
    expect(rehearsal.keeperConflicts.sample[0].current).toBe('Changed by the app');
    // --force counts every archived keeper still in the table
    const forced = JSON.parse((await cli(url, 'restore', '1', '--force', '--format', 'json')).stdout);
    expect({ keepers: forced.keepersRestored, overwritten: forced.keeperConflicts.overwritten }).toEqual({
      keepers: Number(archived!.keepers),
      overwritten: true,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function expectWritingCommandsRefused(url: string, line: RegExp): Promise<void> {
  const before = await fingerprint(url);
  for (const args of [
    ['clean', '--key', 'device-phone', '--execute'],
    ['restore', '1', '--execute'],
    ['constraint', 'add', '--key', 'device-phone'], // the dry run checks the server is writable, as --execute does
    ['constraint', 'add', '--key', 'device-phone', '--execute'],
    ['constraint', 'drop', FIXTURE_CONSTRAINT, '--execute'],
    ['index', 'add', '--key', 'device-phone', '--execute'],
    ['seed', '--rows', '100', '--replace'],
  ]) {
    const result = await cli(url, ...args);
    expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
    expect(result.stderr).toMatch(line);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }
  expect(await fingerprint(url)).toBe(before);
}

/** `clean --plan F` without --execute (the check) needs temporary tables: a plan written on the read-only side, then its check refused with exit 2 and one line, nothing changed. */
export async function expectPlanCheckRefused(url: string, line: RegExp): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-ro-plan-'));
  try {
    const file = join(dir, 'plan.jsonl');
    const written = await cli(url, 'clean', '--key', 'device-phone', '--plan-out', file);
    expect(written.code, written.stderr).toBe(0);
    const before = await fingerprint(url);
    const check = await cli(url, 'clean', '--key', 'device-phone', '--plan', file);
    expect({ code: check.code, stdout: check.stdout }).toEqual({ code: 2, stdout: '' });
    expect(check.stderr).toMatch(line);
    expect(check.stderr.trim().split('\n')).toHaveLength(1);
    expect(await fingerprint(url)).toBe(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
