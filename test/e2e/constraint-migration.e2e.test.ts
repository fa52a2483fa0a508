import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueIndexesOf } from '../support/constraint-fixtures.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const cli = (args: string[]) => runCli(args, { env: { LEAD_DEDUPE_DEBUG: '' } });

describe.skipIf(!SERVER_URL)('lead-dedupe constraint add --migration, the built binary (server)', () => {
  let test: TestDatabase;
  let db: string[];
  let dir: string;
  const files = ['add_leads_device_id_phone_key.up.sql', 'add_leads_device_id_phone_key.down.sql'];

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    db = ['--database', test.url!];
    dir = await mkdtemp(join(tmpdir(), 'lead-dedupe-migration-e2e-'));
    await test.exec(`create table leads (id bigserial primary key, device_id int, phone text, created_at timestamptz not null default now());
insert into leads (device_id, phone) values (1, 'a'), (1, 'a'), (2, 'b');`);
  });
  afterAll(async () => {
    await test?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the files, changes nothing in the database, and the files never carry the connection flags', async () => {
    const written = await cli(['constraint', 'add', '--key', 'device-phone', ...db, '--migration', 'sql', '--migration-dir', dir]);
    expect(written).toMatchObject({ code: 0, stderr: '' });
    expect(written.stdout).toContain(`  ${files[0]}\n  ${files[1]}\n`);
    expect((await readdir(dir)).sort()).toEqual([...files].sort());
    const up = await readFile(join(dir, files[0]!), 'utf8');
    expect(up).not.toContain(test.url!);
    expect(up).toContain("'lead-dedupe clean --key device-phone'");
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
  });

  it('exit 2, one line, nothing written: existing files (unless --overwrite), a missing folder, stray or bad flags', async () => {
    const again = await cli(['constraint', 'add', '--key', 'device-phone', ...db, '--migration', 'sql', '--migration-dir', dir]);
    expect(again).toEqual({
      code: 2,
      stdout: '',
      stderr: `lead-dedupe: --migration-dir: ${files.join(', ')} exist(s) already in ${dir}; --overwrite replaces them; nothing was written\n`,
    });
    expect(await cli(['constraint', 'add', '--key', 'device-phone', ...db, '--migration', 'sql', '--migration-dir', dir, '--overwrite'])).toMatchObject({
      code: 0,
    });
    const refusals: [string[], unknown][] = [
      [
        ['--migration', 'sql', '--migration-dir', join(dir, 'nope')],
        `lead-dedupe: --migration-dir ${join(dir, 'nope')}: the folder does not exist; nothing was written\n`,
      ],
      [['--migration', 'sql'], 'lead-dedupe: --migration sql needs --migration-dir <dir>\n'],
      [['--migration-dir', dir], 'lead-dedupe: --migration-dir goes with --migration <format>\n'],
      [
        ['--migration', 'sql', '--migration-dir', dir, '--migration-name', '../x'],
        expect.stringMatching(/^lead-dedupe: --migration-name "\.\.\/x": use 1 to 100 letters/),
      ],
      [['--migration', 'sql', '--migration-dir', dir, '--print-sql'], expect.stringMatching(/^lead-dedupe: --print-sql and --migration: choose one/)],
      [['--migration', 'liquibase', '--migration-dir', dir], expect.stringMatching(/liquibase/)],
    ];
    for (const [args, stderr] of refusals) {
      expect(await cli(['constraint', 'add', '--key', 'device-phone', ...db, ...args])).toEqual({ code: 2, stdout: '', stderr });
    }
    expect((await readdir(dir)).sort()).toEqual([...files].sort());
  });
});
