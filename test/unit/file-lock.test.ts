import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/cli/file-lock.js';
import { ExitCode, LockHeldError } from '../../src/errors.js';

/** The lock file beside a shared --state-file (issue 26 item 15): exclusive, waited for, broken only when its holder is gone. */
describe('withFileLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fast = { waitMs: 5_000, staleMs: 60_000 };

  it('runs read-modify-write sections one at a time: no update is lost, and the lock is gone afterwards', async () => {
    const file = join(dir, 'counter');
    writeFileSync(file, '0');
    await Promise.all(
      Array.from({ length: 25 }, () =>
        withFileLock(
          file,
          '--state-file',
          async () => {
            const value = Number(await readFile(file, 'utf8'));
            await new Promise((resolve) => setTimeout(resolve, 2));
            await writeFile(file, String(value + 1));
          },
          fast,
        ),
      ),
    );
    expect(readFileSync(file, 'utf8')).toBe('25');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('breaks the lock of a process of this host that no longer exists, and one older than staleMs', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const file = join(dir, 'dead');
    writeFileSync(`${file}.lock`, `${dead} ${hostname()} 2026-01-01T00:00:00.000Z\n`);
    expect(await withFileLock(file, '--state-file', async () => 'ran', fast)).toBe('ran');
    const old = join(dir, 'old');
    writeFileSync(`${old}.lock`, `1 another-host 2026-01-01T00:00:00.000Z\n`);
    utimesSync(`${old}.lock`, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    expect(await withFileLock(old, '--state-file', async () => 'ran', fast)).toBe('ran');
    expect(existsSync(`${old}.lock`)).toBe(false);
  });

  it('waits for a live holder, then gives up with exit 4 naming it, leaving its lock in place', async () => {
    const file = join(dir, 'live');
    const holder = `${process.ppid} ${hostname()} 2026-01-01T00:00:00.000Z\n`;
    writeFileSync(`${file}.lock`, holder);
    const attempt = withFileLock(file, '--state-file', async () => 'ran', { waitMs: 300, staleMs: 60_000 });
    await expect(attempt).rejects.toThrow(LockHeldError);
    await expect(attempt).rejects.toThrow(`--state-file ${file} is locked by another run (${file}.lock: ${holder.trim()})`);
    expect(new LockHeldError('x', { file: 'x' }).exitCode).toBe(ExitCode.lockHeld);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(holder);
  });
});
