import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, lstat, open, readlink, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { FileWriteError, UsageError } from '../errors.js';

/**
 * Every file the tool writes (--output, --details, --export-removed, the
 * plan files, --metrics-file, --state-file) goes through here: into a new
 * temporary file with a random name in the same folder (O_EXCL, so nothing
 * of anyone else's is ever opened), renamed over the target only once it is
 * complete. A failed or interrupted write removes only that temporary file,
 * never what was at the path before. Only regular files are written; `-` is
 * stdout. A symbolic link is followed to its target, unless someone else
 * planted it in a shared folder (see plantedLink).
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

/**
 * Who may read a new file. `private` (0600, whatever the umask): it holds
 * lead data (reports, plans, CSVs, the state file). `shared` (0666 less the
 * umask, usually 0644): counts only, read by another user (the metrics file
 * a node_exporter reads).
 */
export type FileAccess = 'private' | 'shared';

/** Where an output flag points, once checked. */
interface OutputTarget {
  stdout: boolean;
  /** The file that will be replaced (symbolic links followed to their target). */
  file: string;
  /** The permissions of an existing file the user owns, kept by the replacement; null: a new file's. */
  mode: number | null;
}

/** The sticky bit (S_ISVTX), which node's constants leave out. */
const STICKY = 0o1000;

/** Symbolic links followed at most (Linux's MAXSYMLINKS), so a loop ends. */
const MAX_LINKS = 40;

/**
 * The checks a command runs before it changes anything (exit 2): the folder
 * exists and takes new files, the target is not a directory, device, FIFO or
 * socket, an existing file is writable, and no symbolic link on the way was
 * planted by someone else.
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
  const followed = await followLinks(path);
  if ('refused' in followed) return followed.refused;
  const { file } = followed;
  const info = await lstat(file).catch(() => null);
  // A new file in a linked folder is fine; a link (the path itself) to a missing file is a mistake.
  if (info === null && (await lstat(path).catch(() => null))?.isSymbolicLink()) return 'is a symbolic link to a missing file';
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
  // Another user's file is not ours to keep as it was: the replacement is ours, with a new file's mode.
  const ours = info !== null && info.uid === currentUid();
  return { stdout: false, file, mode: ours ? info.mode & 0o7777 : null };
}

/**
 * The path with every symbolic link in it followed, one link at a time (never
 * realpath, which would follow a planted link before it could be checked):
 * each link is first checked with plantedLink in the folder that holds it.
 * `..` after a link steps out of the link's target, as the kernel does.
 */
async function followLinks(path: string): Promise<{ file: string } | { refused: string }> {
  // Not path.join/resolve: they would drop `x/..` before x, a link, is followed.
  let pending = (isAbsolute(path) ? path : `${process.cwd()}/${path}`).split('/');
  let current = '/';
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, name);
    const info = await lstat(next).catch(() => null);
    if (info === null || !info.isSymbolicLink()) {
      current = next;
      continue;
    }
    if (++links > MAX_LINKS) return { refused: 'has too many levels of symbolic links' };
    const planted = await plantedLink(next, info, current);
    if (planted !== null) return { refused: planted };
    const target = await readlink(next);
    pending = [...target.split('/'), ...pending];
    if (isAbsolute(target)) current = '/';
  }
  return { file: current };
}

/**
 * What Linux's fs.protected_symlinks refuses, checked here whatever the
 * sysctl says: a symbolic link in a sticky world-writable folder (/tmp) is
 * followed only when it belongs to the user or to the folder's owner. Anyone
 * may create links in /tmp, so a link there owned by someone else may point
 * wherever they like (e.g. at a file of root's that a DBA running as root
 * would replace).
 */
async function plantedLink(link: string, info: Stats, folder: string): Promise<string | null> {
  const folderInfo = await stat(folder);
  const shared = (folderInfo.mode & STICKY) !== 0 && (folderInfo.mode & constants.S_IWOTH) !== 0;
  if (!shared || info.uid === currentUid() || info.uid === folderInfo.uid) return null;
  return `symbolic link ${link} belongs to uid ${info.uid}, neither you nor the owner of ${folder} (sticky and writable by everyone), so anyone could have pointed it anywhere: not followed; name the file itself, or a path in a folder of your own`;
}

function currentUid(): number {
  return process.geteuid?.() ?? -1;
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
export async function openAtomicFile(path: string, flag: string, fileAccess: FileAccess = 'private'): Promise<AtomicFile> {
  const target = await inspect(path);
  if (typeof target === 'string') throw new FileWriteError(`cannot write ${flag} ${path}: ${target}`);
  if (target.stdout) {
    return { stream: process.stdout, commit: async () => undefined, discard: async (cause) => cause };
  }
  const temporary = join(dirname(target.file), `.${basename(target.file).slice(0, 200)}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  // An existing file of the user's keeps its permissions; a new file (or one of someone else's) gets the access's.
  const mode = target.mode ?? (fileAccess === 'private' ? 0o600 : null);
  const describe = (error: Error) => new FileWriteError(`cannot write ${flag} ${path}: ${error.message}`);
  let handle: FileHandle;
  try {
    // 'wx' (O_EXCL): the temporary name is new, so nothing of anyone else's is ever opened.
    handle = await open(temporary, 'wx', mode ?? 0o666);
  } catch (error) {
    throw describe(error as Error);
  }
  try {
    // The mode given to open is masked by the umask: set it exactly, on the open file itself.
    if (mode !== null) await handle.chmod(mode);
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw describe(error as Error);
  }
  // flush: fsync before close.
  const stream = handle.createWriteStream({ flush: true });
  let failure: Error | null = null;
  stream.on('error', (error) => (failure ??= error));
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
export async function writeFileAtomically(path: string, text: string, flag: string, fileAccess: FileAccess = 'private'): Promise<void> {
  const file = await openAtomicFile(path, flag, fileAccess);
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
