import { randomBytes } from 'node:crypto';
import { createWriteStream, constants, type Stats } from 'node:fs';
import { access, chmod, lstat, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { FileWriteError, UsageError } from '../errors.js';

/**
 * Every file the tool writes (--output, --details, --export-removed) goes
 * through here: into a temporary file in the same folder, renamed over the
 * target only once it is complete. A failed or interrupted write removes
 * only that temporary file, never what was at the path before. Only regular
 * files are written (a symlink is followed to its target); `-` is stdout.
 */
export interface AtomicFile {
  stream: Writable;
  /** Flushes, syncs and renames the temporary file into place. */
  commit(): Promise<void>;
  /**
   * Removes the temporary file. Returns the error to report: a
   * FileWriteError when the file itself failed (disk full…), else `cause`.
   */
  discard(cause: unknown): Promise<unknown>;
}

/** Where an output flag points, once checked. */
interface OutputTarget {
  stdout: boolean;
  /** The file that will be replaced (a symlink resolved to its target). */
  file: string;
  /** The existing file's permissions, kept by the replacement; null for a new file. */
  mode: number | null;
}

/**
 * The checks a command runs before it changes anything (exit 2): the folder
 * exists and takes new files, the target is not a directory, device, FIFO or
 * socket, and an existing file is writable.
 */
export async function checkOutputPath(path: string, flag: string): Promise<OutputTarget> {
  const checked = await inspect(path);
  if (typeof checked === 'string') throw new UsageError(`${flag} ${path}: ${checked}; nothing was changed`);
  return checked;
}

/** The target, or why it cannot be written. */
async function inspect(path: string): Promise<OutputTarget | string> {
  if (path === '-') return { stdout: true, file: '-', mode: null };
  if (path.trim() === '') return 'needs a file name';
  let file = resolve(path);
  let info = await lstat(file).catch(() => null);
  if (info?.isSymbolicLink()) {
    try {
      file = await realpath(file);
    } catch {
      return 'is a symbolic link to a missing file';
    }
    info = await stat(file);
  }
  if (info !== null) {
    if (info.isDirectory()) return 'is a directory';
    if (!info.isFile()) return `is a ${kindOf(info)}, not a regular file (use - for stdout)`;
    if (!(await permits(file, constants.W_OK))) return 'is not writable';
  }
  const folder = dirname(file);
  const folderInfo = await stat(folder).catch(() => null);
  if (folderInfo === null) return `folder ${folder} does not exist`;
  if (!folderInfo.isDirectory()) return `${folder} is not a folder`;
  if (!(await permits(folder, constants.W_OK | constants.X_OK))) return `cannot create files in ${folder}`;
  return { stdout: false, file, mode: info === null ? null : info.mode & 0o7777 };
}

/**
 * The file flags of one command, checked together before it runs: each path,
 * two flags on one file, and stdout claimed twice (the report goes there
 * unless --output or --quiet).
 */
export async function checkOutputPaths(paths: Record<string, string | undefined>, reportOnStdout: boolean): Promise<void> {
  const given = Object.entries(paths).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const seen = new Map<string, string>();
  for (const [flag, path] of given) {
    const target = await checkOutputPath(path, flag);
    const other = seen.get(target.file);
    if (other !== undefined && target.stdout) {
      throw new UsageError(`${other} - and ${flag} - would both go to stdout; nothing was changed`);
    }
    if (other !== undefined) throw new UsageError(`${other} and ${flag} name the same file ${path}; nothing was changed`);
    if (target.stdout && reportOnStdout && flag !== '--output') {
      throw new UsageError(`${flag} - and the report would both go to stdout; add --output <file> or --quiet; nothing was changed`);
    }
    seen.set(target.file, flag);
  }
}

/**
 * Opens the temporary file. The command checked the path before it began
 * (checkOutputPaths), so a problem now (the folder removed meanwhile) is a
 * FileWriteError (exit 1), never a usage error after data changed.
 */
export async function openAtomicFile(path: string, flag: string): Promise<AtomicFile> {
  const target = await inspect(path);
  if (typeof target === 'string') throw new FileWriteError(`cannot write ${flag} ${path}: ${target}`);
  if (target.stdout) {
    return { stream: process.stdout, commit: async () => undefined, discard: async (cause) => cause };
  }
  const temporary = join(dirname(target.file), `.${basename(target.file).slice(0, 200)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx': the temporary name is new, so nothing of anyone else's is ever opened; flush: fsync before close.
  const stream = createWriteStream(temporary, { flags: 'wx', mode: target.mode ?? 0o666, flush: true });
  let failure: Error | null = null;
  stream.on('error', (error) => (failure ??= error));
  const describe = (error: Error) => new FileWriteError(`cannot write ${flag} ${path}: ${error.message}`);
  try {
    await once(stream, 'open');
    // The mode given to open is masked by the umask; a replaced file keeps exactly its permissions.
    if (target.mode !== null) await chmod(temporary, target.mode);
  } catch (error) {
    stream.destroy();
    await rm(temporary, { force: true });
    throw describe(error as Error);
  }
  return {
    stream,
    async commit() {
      try {
        stream.end();
        await finished(stream);
        if (failure !== null) throw failure;
        await rename(temporary, target.file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw describe(error as Error);
      }
    },
    async discard(cause) {
      // what failed before we gave up (destroying fails the writes still queued: not news)
      const failed = failure;
      stream.destroy();
      await finished(stream).catch(() => undefined);
      await rm(temporary, { force: true });
      return failed === null ? cause : describe(failed);
    },
  };
}

/** The report of --output: one string, written the same way. */
export async function writeFileAtomically(path: string, text: string, flag: string): Promise<void> {
  const file = await openAtomicFile(path, flag);
  try {
    file.stream.write(text);
  } catch (error) {
    throw await file.discard(error);
  }
  await file.commit();
}

async function permits(path: string, mode: number): Promise<boolean> {
  return access(path, mode).then(
    () => true,
    () => false,
  );
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'FIFO';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  if (info.isSocket()) return 'socket';
  return 'special file';
}
