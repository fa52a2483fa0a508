import { execFile } from 'node:child_process';
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';
import { assertBuilt, BIN, type CliResult } from '../support/cli.js';

/**
 * The files every writer leaves, through the built binary under umask 022 (issue 26 item 8): lead
 * data 0600, the metrics file 0644. And a symbolic link another user planted in a sticky
 * world-writable folder is refused (exit 2) with its target untouched (item 7).
 */
const NOBODY = 65534;
const asRoot = process.geteuid?.() === 0;

/** The binary under a given umask (a shell sets it, as a cron job's would). */
function cliUnderUmask(umask: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, BIN, ...args],
      { env: { ...process.env, DATABASE_URL: '', COLUMNS: '200' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe(`output file modes and planted links (built binary, ${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  let dir: string;
  let database: string;
  const cli = (...args: string[]) => cliUnderUmask('022', args);
  const modeOf = (path: string) => statSync(path).mode & 0o7777;

  beforeAll(async () => {
    assertBuilt();
    db = await openCliDatabase('lead-dedupe-modes-e2e-');
    ({ dir, database } = db);
    const seeded = await cli('seed', '--database', database, '--rows', '1000');
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(async () => db?.close());

  it('every writer creates its file 0600 under umask 022, except the metrics file (0644)', async () => {
    const out = mkdtempSync(join(dir, 'out-'));
    const at = (name: string) => join(out, name);
    const runs = [
      ['scan', '--key', 'device-phone', '--output', at('scan.json'), '--details', at('details.csv'), '--metrics-file', at('scan.prom')],
      ['scan', '--key', 'device-phone', '--since', 'last', '--state-file', at('state.json'), '--quiet'],
      ['clean', '--key', 'device-phone', '--plan-out', at('plan.jsonl'), '--plan-csv', at('plan.csv'), '--quiet'],
      ['report', '--key', 'device-phone', '--output', at('report.html')],
      ['clean', '--key', 'device-phone', '--execute', '--export-removed', at('removed.csv'), '--output', at('clean.json')],
      ['runs', '--output', at('runs.csv')],
    ];
    for (const args of runs) {
      const result = await cli(...args, '--database', database);
      expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ args, code: 0 });
    }
    const modes = Object.fromEntries(readdirSync(out).map((name) => [name, modeOf(at(name)).toString(8)]));
    expect(modes).toEqual({
      'scan.json': '600',
      'details.csv': '600',
      'scan.prom': '644',
      'state.json': '600',
      'plan.jsonl': '600',
      'plan.csv': '600',
      'report.html': '600',
      'removed.csv': '600',
      'clean.json': '600',
      'runs.csv': '600',
    });
    // The rows are there: the files are not empty shells.
    expect(readFileSync(at('removed.csv'), 'utf8').split('\n').length).toBeGreaterThan(2);
  });

  it.skipIf(!asRoot)('refuses a link another user planted in a sticky world-writable folder (exit 2), the target unchanged', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const target = join(dir, 'precious.csv');
    writeFileSync(target, 'important\n');
    for (const flag of ['--output', '--details', '--metrics-file', '--state-file']) {
      const link = join(shared, `link${flag}.csv`);
      symlinkSync(target, link);
      lchownSync(link, NOBODY, NOBODY);
      const since = flag === '--state-file' ? ['--since', 'last'] : [];
      const result = await cli('scan', '--database', database, '--key', 'device-phone', ...since, flag, link);
      expect({ flag, code: result.code, stdout: result.stdout }).toEqual({ flag, code: 2, stdout: '' });
      expect(result.stderr).toBe(
        `lead-dedupe: ${flag} ${link}: symbolic link ${link} belongs to uid ${NOBODY}, neither you nor the owner of ${shared} (sticky and writable by everyone), ` +
          'so anyone could have pointed it anywhere: not followed; name the file itself, or a path in a folder of your own; nothing was changed\n',
      );
      expect(readlinkSync(link)).toBe(target);
    }
    expect(readFileSync(target, 'utf8')).toBe('important\n');
    expect(readdirSync(shared).filter((name) => !name.startsWith('link'))).toEqual([]);
  });
});
