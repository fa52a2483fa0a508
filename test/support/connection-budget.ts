import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The test server allows 100 connections and vitest runs two test files at
 * once (maxWorkers 2): two files that each open ~50 connections (the webhook
 * races) would exhaust it. A file that opens more than a handful of
 * connections does so inside `withManyConnections`, which lets one such phase
 * run at a time across vitest's worker processes: an exclusively created lock
 * file, taken over when the process that made it is gone.
 */
const LOCK = join(tmpdir(), 'lead-dedupe-test-many-connections.lock');
const POLL_MS = 200;

export async function withManyConnections<T>(fn: () => Promise<T>): Promise<T> {
  const release = await holdManyConnections();
  try {
    return await fn();
  } finally {
    release();
  }
}

/** For a file that holds its connections from beforeAll to afterAll: call the returned function to let the next one in. */
export async function holdManyConnections(): Promise<() => void> {
  await acquire();
  return () => rmSync(LOCK, { force: true });
}

async function acquire(): Promise<void> {
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!holderAlive()) rmSync(LOCK, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(LOCK, 'utf8'));
  } catch {
    return true; // being written or just removed: look again
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
