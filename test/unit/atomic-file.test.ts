import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputPaths, openAtomicFile, writeFileAtomically } from '../../src/cli/atomic-file.js';
import { FileWriteError, UsageError } from '../../src/errors.js';

describe('atomic output files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = () => mkdtempSync(join(dir, 'case-'));

  it('replaces a file only on commit; a discarded write leaves the old content and no temporary file', async () => {
    const folder = fresh();
    const path = join(folder, 'report.json');
    writeFileSync(path, 'old\n');
    const file = await openAtomicFile(path, '--output');
    file.stream.write('half of the new');
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    const cause = new Error('the export failed');
    expect(await file.discard(cause)).toBe(cause);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(readdirSync(folder)).toEqual(['report.json']);
    await writeFileAtomically(path, 'new\n', '--output');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(readdirSync(folder)).toEqual(['report.json']);
  });

  it('follows a symlink: the target gets the new content, the link stays', async () => {
    const folder = fresh();
    const target = join(folder, 'target.csv');
    const link = join(folder, 'link.csv');
    writeFileSync(target, 'old\n');
    symlinkSync(target, link);
    await writeFileAtomically(link, 'new\n', '--details');
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('new\n');
  });

  it('checks paths before a command starts: exit-2 errors naming the flag; one file or stdout claimed twice', async () => {
    const folder = fresh();
    const fifo = join(folder, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const refused = async (paths: Record<string, string | undefined>, reportOnStdout = true) =>
      checkOutputPaths(paths, reportOnStdout).then(
        () => 'accepted',
        (error: unknown) => (error instanceof UsageError ? error.message : `unexpected ${String(error)}`),
      );
    expect(await refused({ '--output': join(folder, 'missing', 'r.json') })).toBe(
      `--output ${join(folder, 'missing', 'r.json')}: folder ${join(folder, 'missing')} does not exist; nothing was changed`,
    );
    expect(await refused({ '--details': fifo })).toBe(`--details ${fifo}: is a FIFO, not a regular file (use - for stdout); nothing was changed`);
    expect(await refused({ '--output': folder })).toBe(`--output ${folder}: is a directory; nothing was changed`);
    expect(await refused({ '--output': join(folder, 'a.csv'), '--details': join(folder, 'a.csv') })).toBe(
      `--output and --details name the same file ${join(folder, 'a.csv')}; nothing was changed`,
    );
    expect(await refused({ '--details': '-' })).toBe('--details - and the report would both go to stdout; add --output <file> or --quiet; nothing was changed');
    expect(await refused({ '--details': '-', '--output': join(folder, 'r.txt') }, false)).toBe('accepted');
    expect(await refused({ '--output': undefined, '--details': join(folder, 'new.csv') })).toBe('accepted');
  });

  it('a folder that vanished after the checks is a FileWriteError (exit 1), not a usage error', async () => {
    const folder = fresh();
    const path = join(folder, 'r.json');
    await checkOutputPaths({ '--output': path }, false);
    rmSync(folder, { recursive: true });
    await expect(writeFileAtomically(path, 'x', '--output')).rejects.toThrow(
      new FileWriteError(`cannot write --output ${path}: folder ${folder} does not exist`),
    );
  });
});
