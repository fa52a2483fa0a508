import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, PRINTED_INVOCATION, runCli, startCli, startInTerminal, type Running } from '../support/cli.js';

const UNDO_LINE = new RegExp(
  `undo with \\(without --execute it rehearses\\):\\r?\\n {2}${PRINTED_INVOCATION.replace(/[.]/g, '\\.')} restore \\d+ -d \\S+ --execute\\r?\\n`,
);
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { countRows, tableChecksum } from '../support/table-facts.js';

/**
 * Signals and terminals, through the built binary against the server:
 * Ctrl-C typed on a real pseudo-terminal (util-linux `script`), SIGTERM as
 * cron/systemd send it, a second signal during a batch that waits on a lock,
 * and a terminal of size 0×0. The documented code for a run stopped by a
 * signal is 130 (docs/exit-codes.md).
 */
const INTERRUPTED = 130;
const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;

describe.skipIf(!SERVER_URL)('signals and terminals (built binary, server)', () => {
  let test: TestDatabase;
  let url: string;
  const count = (text: string) => countRows(test, text);
  /** The oracle: md5 over every row of both tables, in id order, written by hand. */
  const checksum = async () => ({ leads: await tableChecksum(test, 'leads'), activities: await tableChecksum(test, 'lead_activities') });
  const runRecord = async () =>
    (
      await test.query<{ id: string; status: string; finished: boolean; batches_done: number; rows_removed: string }>(
        'select id::text as id, status, finished_at is not null as finished, batches_done, rows_removed::text as rows_removed from lead_dedupe.lead_dedupe_runs order by id desc limit 1',
      )
    )[0]!;
  const clean = (...extra: string[]) => ['clean', '--database', url, '--key', 'device-phone', '--execute', ...extra];

  async function waitFor(what: string, condition: () => Promise<boolean>, run?: Running): Promise<void> {
    for (let i = 0; i < 1200; i++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}${run ? `; output so far:\n${run.output()}` : ''}`);
  }
  const batchesDone = (batches: number, run?: Running) =>
    waitFor(
      `${batches} committed batches`,
      async () =>
        (await count(`select 1 from pg_tables where schemaname = 'lead_dedupe' and tablename = 'lead_dedupe_runs'`)) > 0 &&
        (await count(`select 1 from lead_dedupe.lead_dedupe_runs where status = 'running' and batches_done >= ${batches}`)) > 0,
      run,
    );

  /** Exit code, time from the signal to the exit. */
  async function exitAfter(run: Running, signal: () => void) {
    const sent = Date.now();
    signal();
    // a run that ignores the signal fails the test instead of holding up the file (and the next test's lock) forever
    const hung = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
    const finished = await run.done.finally(() => clearTimeout(hung));
    return { ...finished, seconds: (Date.now() - sent) / 1000 };
  }

  /** After an interrupted run: archived + remaining = before, then restore brings back the exact rows. */
  async function expectInterruptedAndRestorable(before: { leads: string; activities: string }, leadsBefore: number) {
    const record = await runRecord();
    expect({ status: record.status, finished: record.finished }).toEqual({ status: 'interrupted', finished: true });
    const archived = await count(`select * from lead_dedupe.lead_dedupe_removed where run_id = ${record.id}`);
    expect(archived).toBe(Number(record.rows_removed));
    expect((await count('select * from leads')) + archived).toBe(leadsBefore);
    if (archived > 0) {
      const restored = await runCli(['restore', record.id, '--database', url, '--execute']);
      expect(restored.code, restored.stderr).toBe(0);
    }
    expect(await checksum()).toEqual(before);
    return record;
  }

  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
    url = test.url!;
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    await seed(test.database, { table: 'leads', rows: 5000, scenario: 'production', replace: true });
  });

  it('Ctrl-C typed on a terminal while the progress spinner runs stops after the batch, prints the summary, exits 130; restore undoes it', async () => {
    const before = await checksum();
    const leadsBefore = await count('select * from leads');
    const run = startInTerminal(clean('--batch-size', '5', '--pause', '100ms'), { rows: 24, cols: 100 });
    await batchesDone(2, run);
    const stopped = await exitAfter(run, () => run.child.stdin!.write('\x03'));
    expect(stopped.code, stopped.stdout).toBe(INTERRUPTED);
    expect(stopped.seconds).toBeLessThan(5);
    expect(stopped.stdout).toContain('stopping after the current batch');
    expect(stopped.stdout).toMatch(/clean run \d+ on public\.leads by device-phone \(keep oldest, mode merge\): interrupted/);
    expect(stopped.stdout).toMatch(UNDO_LINE);
    const record = await expectInterruptedAndRestorable(before, leadsBefore);
    expect(record.batches_done).toBeGreaterThanOrEqual(2);
  });

  it('SIGTERM (cron, systemd) does the same: summary, run interrupted with its finish time, exit 130, restorable', async () => {
    const before = await checksum();
    const leadsBefore = await count('select * from leads');
    const run = startCli(clean('--batch-size', '5', '--pause', '100ms'));
    await batchesDone(2, run);
    const stopped = await exitAfter(run, () => run.child.kill('SIGTERM'));
    expect(stopped.code, stopped.stderr).toBe(INTERRUPTED);
    expect(stopped.seconds).toBeLessThan(5);
    expect(stopped.stdout).toMatch(/clean run \d+ on public\.leads by device-phone \(keep oldest, mode merge\): interrupted/);
    expect(stopped.stdout).toMatch(UNDO_LINE);
    expect(stopped.stderr).not.toMatch(/\n\s+at /);
    await expectInterruptedAndRestorable(before, leadsBefore);
  });

  it('a second signal rolls back the batch in flight (busy in a statement) and exits at once, the run marked interrupted', async () => {
    const before = await checksum();
    const leadsBefore = await count('select * from leads');
    // The third batch (groups 11-15 in key order) stays busy in its DELETE: a trigger sleeps on one group's rows. Not a
    // lock wait on purpose: a first signal while a batch waits on a lock rolls it back at once (lock-waits.e2e), so only
    // a batch that is working shows the first signal waiting for it.
    const [slow] = await test.query<{ device_id: string; phone: string }>(`select device_id::text as device_id, phone from leads
      where phone is not null group by device_id, phone having count(*) > 1 order by device_id, phone offset 12 limit 1`);
    await test.query(`create function slow_delete() returns trigger language plpgsql as $$ begin
        if (old.device_id::text, old.phone) = ('${slow!.device_id}', '${slow!.phone}') then perform pg_sleep(60); end if; return old; end $$`);
    await test.query('create trigger slow_delete before delete on leads for each row execute function slow_delete()');
    try {
      const run = startCli(clean('--batch-size', '5'));
      await waitFor(
        'the third batch to sleep in its DELETE',
        async () =>
          (await count(`select 1 from pg_stat_activity where datname = current_database() and application_name = 'lead-dedupe' and wait_event = 'PgSleep'`)) >
          0,
        run,
      );
      run.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 1500)); // past the lock-wait probe's first looks: it finds no lock
      expect(run.child.exitCode).toBeNull(); // the first signal waits for the batch
      const stopped = await exitAfter(run, () => run.child.kill('SIGTERM'));
      expect(stopped.code, stopped.stderr).toBe(INTERRUPTED);
      expect(stopped.seconds).toBeLessThan(3);
      expect(stopped.stdout).toMatch(/: interrupted in /);
      expect(stopped.stdout).toContain('was rolled back');
      expect(stopped.stderr).not.toMatch(/\n\s+at /);
      // the batch's statement, its transaction and the run's advisory lock are gone
      await waitFor(
        'the tool to let go',
        async () =>
          (await count(
            `select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
          )) === 0 && (await count(`select 1 from pg_stat_activity where datname = current_database() and state <> 'idle' and pid <> pg_backend_pid()`)) === 0,
      );
      const record = await runRecord();
      expect(record.batches_done).toBe(2);
    } finally {
      await test.query('drop trigger slow_delete on leads');
      await test.query('drop function slow_delete()');
    }
    await expectInterruptedAndRestorable(before, leadsBefore);
  });

  it('a run killed with SIGKILL (no chance to record its end) gets its finish time when restored', async () => {
    const before = await checksum();
    const run = startCli(clean('--batch-size', '5', '--pause', '100ms'));
    await batchesDone(2, run);
    run.child.kill('SIGKILL');
    await run.done;
    const killed = await runRecord();
    expect({ status: killed.status, finished: killed.finished }).toEqual({ status: 'running', finished: false });
    const restored = await runCli(['restore', killed.id, '--database', url, '--execute']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await checksum()).toEqual(before);
    const record = await runRecord();
    expect({ status: record.status, finished: record.finished }).toEqual({ status: 'restored', finished: true });
  });

  // clean's message is the same whatever its flags (a dry run, with or without --plan-out): nothing was changed
  const waitingReaders: [string, (dir: string) => string[], ('written' | 'changed')?][] = [
    ['scan', () => ['scan', '--database', url, '--key', 'device-phone']],
    ['diagnose', () => ['diagnose', '--database', url, '--key', 'device-phone']],
    ['report', (dir) => ['report', '--database', url, '--output', join(dir, 'report.html')]],
    ['suspects', (dir) => ['suspects', '--database', url, '--plan-out', join(dir, 'plan.jsonl')]],
    // the plan's cursor, which keeps one FETCH ahead, waits for the lock in its DECLARE
    ['clean --plan-out', (dir) => ['clean', '--database', url, '--key', 'device-phone', '--plan-out', join(dir, 'plan.jsonl')], 'changed'],
    ['seed --replace', () => ['seed', '--database', url, '--rows', '100', '--replace']],
  ];
  it.each(waitingReaders)('a signal during %s exits 130 promptly with one line, no stack trace, nothing written', async (_name, args, was = 'written') => {
    const before = await checksum();
    const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-signal-'));
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // the command waits on the table lock until it is interrupted
      await holder.query('begin');
      await holder.query('lock table leads in access exclusive mode');
      const run = startCli(args(dir));
      await waitFor(
        'the command to wait for the table lock',
        async () =>
          (await count(`select 1 from pg_stat_activity where datname = current_database() and application_name = 'lead-dedupe' and wait_event_type = 'Lock'`)) >
          0,
        run,
      );
      const stopped = await exitAfter(run, () => run.child.kill('SIGINT'));
      expect({ code: stopped.code, stdout: stopped.stdout }).toEqual({ code: INTERRUPTED, stdout: '' });
      expect(stopped.stderr).toBe(`lead-dedupe: interrupted by SIGINT; nothing was ${was}\n`);
      expect(stopped.seconds).toBeLessThan(3);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await holder.query('rollback');
      await holder.end();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await checksum()).toEqual(before);
  });

  it('a 0×0 terminal (CI runners, script): no runaway spinner; the command ends and writes little', async () => {
    const scan = startInTerminal(['scan', '--database', url, '--key', 'device-phone', '--top', '1'], { rows: 0, cols: 0 });
    const cleanRun = startInTerminal(clean('--batch-size', '50', '--pause', '200ms'), { rows: 0, cols: 0 });
    const timeout = setTimeout(() => {
      scan.child.kill('SIGKILL');
      cleanRun.child.kill('SIGKILL');
    }, 30_000);
    try {
      const [scanned, cleaned] = await Promise.all([scan.done, cleanRun.done]);
      expect({ code: scanned.code, signal: scanned.signal }).toEqual({ code: 0, signal: null });
      expect({ code: cleaned.code, signal: cleaned.signal }).toEqual({ code: 0, signal: null });
      // the reports themselves are a few kB; the runaway spinner wrote megabytes
      expect(Buffer.byteLength(scanned.stdout)).toBeLessThan(16_000);
      expect(Buffer.byteLength(cleaned.stdout)).toBeLessThan(16_000);
      expect(cleaned.stdout).toMatch(/clean run \d+ on public\.leads by device-phone .*: done/);
    } finally {
      clearTimeout(timeout);
    }
  });
});
