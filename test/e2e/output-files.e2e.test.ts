import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, PRINTED_INVOCATION, runCli, startCli, type CliResult } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { countRows, tableChecksum } from '../support/table-facts.js';

/**
 * Output files (--details, --output, --export-removed), through the built
 * binary against the server: a failed export never destroys what was at its
 * path, non-regular files are refused, and clean/restore check their paths
 * before they change anything (exit 2) and never exit 2 after they did.
 */
const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;

describe.skipIf(!SERVER_URL)('output files (built binary, server)', () => {
  let test: TestDatabase;
  let url: string;
  let dir: string;
  const count = (text: string) => countRows(test, text);
  const checksum = async () => ({ leads: await tableChecksum(test, 'leads'), activities: await tableChecksum(test, 'lead_activities') });
  const archiveExists = async () => (await count(`select 1 from pg_namespace where nspname = 'lead_dedupe'`)) > 0;
  /** What is left in a folder besides the given names (e.g. a temporary file). */
  const leftovers = (folder: string, expected: string[]) => readdirSync(folder).filter((name) => !expected.includes(name));

  /** The binary, killed after 20 s: a write that blocks (a FIFO without reader) must not hang the suite. */
  async function cliWithin(args: string[]): Promise<CliResult> {
    const run = startCli(args);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
    const done = await run.done;
    clearTimeout(timer);
    return { code: done.code ?? -1, stdout: done.stdout, stderr: done.stderr };
  }

  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
    url = test.url!;
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-files-'));
  });
  afterAll(async () => {
    await test?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    await seed(test.database, { table: 'leads', rows: 3000, scenario: 'production', replace: true });
  });

  describe('a --details export that fails half way', () => {
    let holder: pg.Client;
    beforeEach(async () => {
      // A lock that makes the export wait; the test then ends its sessions (the tool's own timeouts outrank a
      // role's statement_timeout, so the failure has to come from outside).
      holder = new pg.Client({ connectionString: url });
      await holder.connect();
      await holder.query('begin');
      await holder.query('lock table leads in access exclusive mode');
    });
    const release = async () => {
      await holder.query('rollback');
      await holder.end();
    };
    /** Starts the export and, until it exits, ends every session of it that waits on the lock (its file is open by then). */
    const failingExport = async (path: string): Promise<CliResult> => {
      const run = startCli(['scan', '--database', url, '--key', 'device-phone', '--details', path]);
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      let exited = false;
      const done = run.done.finally(() => {
        exited = true;
      });
      const waiting = `select pid from pg_stat_activity where datname = current_database() and application_name = 'lead-dedupe' and wait_event_type = 'Lock'`;
      while (!exited) {
        await test.query(`select pg_terminate_backend(pid) from (${waiting}) waiting`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const result = await done;
      clearTimeout(timer);
      return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
    };

    it('leaves a file that was there as it was', async () => {
      const folder = mkdtempSync(join(dir, 'file-'));
      const evidence = join(folder, 'evidence.csv');
      writeFileSync(evidence, 'important\n');
      try {
        const result = await failingExport(evidence);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/^lead-dedupe: [^\n]+\n$/);
      } finally {
        await release();
      }
      expect(readFileSync(evidence, 'utf8')).toBe('important\n');
      expect(leftovers(folder, ['evidence.csv'])).toEqual([]);
    });

    it('leaves a symlink and its target as they were', async () => {
      const folder = mkdtempSync(join(dir, 'link-'));
      const target = join(folder, 'target.csv');
      const link = join(folder, 'link.csv');
      writeFileSync(target, 'important\n');
      symlinkSync(target, link);
      try {
        const result = await failingExport(link);
        expect(result.code, result.stderr).toBe(1);
      } finally {
        await release();
      }
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(target);
      expect(readFileSync(target, 'utf8')).toBe('important\n');
      expect(leftovers(folder, ['target.csv', 'link.csv'])).toEqual([]);
    });
  });

  it('refuses a FIFO and a device (exit 2, one line) and leaves them where they were', async () => {
    const folder = mkdtempSync(join(dir, 'special-'));
    const fifo = join(folder, 'pipe.csv');
    const device = join(folder, 'full');
    execFileSync('mkfifo', [fifo]);
    execFileSync('mknod', [device, 'c', '1', '7']); // a private /dev/full
    const fifoResult = await cliWithin(['scan', '--database', url, '--key', 'device-phone', '--details', fifo]);
    expect(fifoResult).toEqual({
      code: 2,
      stdout: '',
      stderr: `lead-dedupe: --details ${fifo}: is a FIFO, not a regular file (use - for stdout); nothing was changed\n`,
    });
    const deviceResult = await cliWithin(['scan', '--database', url, '--key', 'device-phone', '--details', device]);
    expect(deviceResult).toEqual({
      code: 2,
      stdout: '',
      stderr: `lead-dedupe: --details ${device}: is a character device, not a regular file (use - for stdout); nothing was changed\n`,
    });
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(statSync(device).isCharacterDevice()).toBe(true);
    expect(leftovers(folder, ['pipe.csv', 'full'])).toEqual([]);
  });

  it('a successful export replaces an existing file whole, keeping its permissions', async () => {
    const folder = mkdtempSync(join(dir, 'ok-'));
    const path = join(folder, 'details.csv');
    writeFileSync(path, 'old\n');
    chmodSync(path, 0o640);
    const result = await runCli(['scan', '--database', url, '--key', 'device-phone', '--details', path, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const [oracle] = await test.query<{ n: string }>(
      `select sum(n) as n from (select count(*) as n from leads where phone is not null group by device_id, phone having count(*) > 1) g`,
    );
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]!.startsWith('key,group_id,group_size,rank_in_group,keep,id,')).toBe(true);
    expect(lines).toHaveLength(Number(oracle!.n) + 1);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(leftovers(folder, ['details.csv'])).toEqual([]);
  });

  it('clean --execute refuses unusable --output/--export-removed paths before it changes anything (exit 2)', async () => {
    const before = await checksum();
    const leads = await count('select * from leads');
    const fifo = join(dir, 'clean.fifo');
    execFileSync('mkfifo', [fifo]);
    const cases: [string[], string][] = [
      [['--output', '/no/such/dir/r.json'], 'lead-dedupe: --output /no/such/dir/r.json: folder /no/such/dir does not exist; nothing was changed\n'],
      [
        ['--export-removed', '/no/such/dir/x.csv'],
        'lead-dedupe: --export-removed /no/such/dir/x.csv: folder /no/such/dir does not exist; nothing was changed\n',
      ],
      [['--output', dir], `lead-dedupe: --output ${dir}: is a directory; nothing was changed\n`],
      [['--export-removed', fifo], `lead-dedupe: --export-removed ${fifo}: is a FIFO, not a regular file (use - for stdout); nothing was changed\n`],
      [
        ['--export-removed', '-'],
        'lead-dedupe: --export-removed - and the report would both go to stdout; add --output <file> or --quiet; nothing was changed\n',
      ],
    ];
    for (const [flags, stderr] of cases) {
      const result = await cliWithin(['clean', '--database', url, '--key', 'device-phone', '--execute', ...flags]);
      expect({ flags, ...result }).toEqual({ flags, code: 2, stdout: '', stderr });
    }
    expect(await count('select * from leads')).toBe(leads);
    expect(await checksum()).toEqual(before);
    expect(await archiveExists()).toBe(false);
  });

  it('restore --execute refuses an unusable --output before it restores anything (exit 2)', async () => {
    const cleaned = await runCli(['clean', '--database', url, '--key', 'device-phone', '--execute', '--quiet']);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    const afterClean = await checksum();
    const result = await cliWithin(['restore', '1', '--database', url, '--execute', '--output', '/no/such/dir/r.json']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'lead-dedupe: --output /no/such/dir/r.json: folder /no/such/dir does not exist; nothing was changed\n',
    });
    expect(await checksum()).toEqual(afterClean);
    expect((await test.query<{ status: string }>('select status from lead_dedupe.lead_dedupe_runs where id = 1'))[0]!.status).toBe('done');
  });

  it.each([
    // .txt: the table summary (a .json name would pick JSON)
    { flag: '--output', name: 'r.txt' },
    { flag: '--export-removed', name: 'x.csv' },
  ])('when $flag cannot be written after the batches committed: summary with run id and undo on stdout, exit 1', async ({ flag, name }) => {
    const leadsBefore = await count('select * from leads');
    const folder = join(dir, `gone-${randomBytes(3).toString('hex')}`);
    mkdirSync(folder);
    const run = startCli([
      'clean',
      '--database',
      url,
      '--key',
      'device-phone',
      '--execute',
      '--batch-size',
      '20',
      '--pause',
      '300ms',
      flag,
      join(folder, name),
    ]);
    for (let i = 0; i < 400; i++) {
      if ((await archiveExists()) && (await count(`select 1 from lead_dedupe.lead_dedupe_runs where batches_done >= 1`)) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    rmSync(folder, { recursive: true }); // the folder goes away while the clean runs
    const done = await run.done;
    const [record] = await test.query<{ id: string; status: string; rows_removed: string }>(
      'select id::text as id, status, rows_removed::text as rows_removed from lead_dedupe.lead_dedupe_runs',
    );
    expect(record!.status).toBe('done');
    expect(Number(record!.rows_removed)).toBe(leadsBefore - (await count('select * from leads')));
    expect(done.code, done.stderr).toBe(1);
    expect(done.stdout).toContain(`clean run ${record!.id} on public.leads by device-phone (keep oldest, mode merge): done`);
    expect(done.stdout).toContain(`undo with (without --execute it rehearses):\n  ${PRINTED_INVOCATION} restore ${record!.id} -d ${url} --execute\n`);
    expect(done.stderr).toBe(
      `lead-dedupe: clean run ${record!.id} removed ${record!.rows_removed} rows, but cannot write ${flag} ${folder}/${name}: folder ${folder} does not exist; undo it with:\n` +
        `  ${PRINTED_INVOCATION} restore ${record!.id} -d ${url} --execute\n`,
    );
  });
});
