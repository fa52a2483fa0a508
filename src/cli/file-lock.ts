import { hostname } from 'node:os';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockHeldError } from '../errors.js';

export interface FileLockOptions {
  /** How long to wait for another run to let go before giving up (exit 4). */
  waitMs: number;
  /** A lock older than this is a dead run's, whatever its pid says. */
  staleMs: number;
}

const DEFAULTS: FileLockOptions = { waitMs: 30_000, staleMs: 5 * 60_000 };

/**
 * Runs `task` holding `<path>.lock`, a file created exclusively (O_EXCL)
 * beside `path` that names its holder (`pid host time`), and removed
 * afterwards. Another run waits for it. A lock is stale, and broken, when
 * its holder is a process of this host that no longer exists or when it is
 * older than `staleMs`. Breaking happens under a second exclusive file
 * (`<path>.lock.break`) and only after the lock is read again there and
 * still names the holder judged dead: a holder that released it meanwhile
 * (and a new one that took it) is never broken by a run that read the old
 * holder. A few dozen lines instead of a dependency: proper-lockfile (the
 * usual choice) has had no release since 2021 and keeps its lock alive
 * with a timer this short critical section does not need.
 */
export async function withFileLock<T>(path: string, flag: string, task: () => Promise<T>, options: FileLockOptions = DEFAULTS): Promise<T> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + options.waitMs;
  let pause = 10;
  for (;;) {
    if (await tryTake(lockPath)) break;
    const holder = await readFile(lockPath, 'utf8').catch(() => null);
    if (holder !== null && (await isStale(lockPath, holder, options.staleMs))) await breakStale(lockPath, holder);
    if (Date.now() >= deadline) {
      throw new LockHeldError(
        `${flag} ${path} is locked by another run (${lockPath}: ${holder?.trim() || 'unreadable'}); try again, or remove ${lockPath} if no run is left`,
        { file: path },
      );
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 50);
  }
  try {
    return await task();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** A breaker that died holding its file leaves it behind: after this long it is removed. */
const BREAKER_STALE_MS = 10_000;

/** Removes the lock if it still names `holder`, holding the breaker file so no other run breaks or judges it meanwhile. */
async function breakStale(lockPath: string, holder: string): Promise<void> {
  const breaker = `${lockPath}.break`;
  if (!(await tryTake(breaker))) {
    const info = await stat(breaker).catch(() => null);
    if (info !== null && Date.now() - info.mtimeMs > BREAKER_STALE_MS) await rm(breaker, { force: true });
    return;
  }
  try {
    // Only a dead holder's lock can still carry its text here: a live one removes its own, and breakers are excluded.
    if ((await readFile(lockPath, 'utf8').catch(() => null)) === holder) await rm(lockPath, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}

async function tryTake(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx', 0o600);
    try {
      await handle.writeFile(`${process.pid} ${hostname()} ${new Date().toISOString()}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function isStale(lockPath: string, holder: string, staleMs: number): Promise<boolean> {
  const info = await stat(lockPath).catch(() => null);
  if (info === null) return false;
  if (Date.now() - info.mtimeMs > staleMs) return true;
  const [pid, host] = holder.trim().split(' ');
  if (host !== hostname() || !/^[0-9]+$/.test(pid ?? '')) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
