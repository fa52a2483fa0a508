import { constants } from 'node:fs';
import { access, lstat, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { MigrationFiles } from '../render/constraint-migration/files.js';
import { openAtomicFile, type AtomicFile } from './atomic-file.js';

const FLAG = '--migration-dir';

/** The folder must exist and take new files: checked before the database is opened (exit 2). Returns its absolute path. */
export async function checkMigrationDir(dir: string): Promise<string> {
  if (dir.trim() === '') throw new UsageError(`${FLAG} needs a folder; nothing was written`);
  const folder = resolve(dir);
  const info = await stat(folder).catch(() => null);
  if (info === null) throw new UsageError(`${FLAG} ${dir}: the folder does not exist; nothing was written`);
  if (!info.isDirectory()) throw new UsageError(`${FLAG} ${dir}: not a folder; nothing was written`);
  if (!(await writable(folder))) throw new UsageError(`${FLAG} ${dir}: cannot create files there; nothing was written`);
  return folder;
}

/**
 * Writes the files, each through a temporary file renamed into place, and
 * adds sqitch's change to sqitch.plan (created when missing). Everything is
 * checked first: a file that exists already (or a change already in the
 * plan) stops the run with exit 2 and nothing written, unless `overwrite`.
 * Returns the paths written, relative to the folder.
 */
export async function writeMigrationFiles(folder: string, output: MigrationFiles, options: { overwrite: boolean }): Promise<string[]> {
  const files = [...output.files];
  if (output.sqitchPlan !== null) files.push({ path: 'sqitch.plan', text: await sqitchPlanText(folder, output.sqitchPlan, options.overwrite) });
  const present: string[] = [];
  for (const file of files) {
    const target = join(folder, file.path);
    const parent = dirname(target);
    const parentInfo = await stat(parent).catch(() => null);
    if (parentInfo !== null && !parentInfo.isDirectory()) throw new UsageError(`${FLAG}: ${parent} is not a folder; nothing was written`);
    if (parentInfo !== null && !(await writable(parent))) throw new UsageError(`${FLAG}: cannot create files in ${parent}; nothing was written`);
    const info = await lstat(target).catch(() => null);
    if (info === null || file.path === 'sqitch.plan') continue;
    if (!info.isFile()) throw new UsageError(`${FLAG}: ${target} exists and is not a regular file; nothing was written`);
    present.push(file.path);
  }
  if (present.length > 0 && !options.overwrite) {
    throw new UsageError(`${FLAG}: ${present.join(', ')} exist(s) already in ${folder}; --overwrite replaces them; nothing was written`);
  }
  for (const parent of new Set(files.map((file) => dirname(join(folder, file.path))))) await mkdir(parent, { recursive: true });
  // Every file is complete on disk before the first is renamed into place.
  const opened: AtomicFile[] = [];
  try {
    for (const file of files) {
      const atomic = await openAtomicFile(join(folder, file.path), FLAG);
      opened.push(atomic);
      atomic.stream.write(file.text);
    }
  } catch (error) {
    for (const atomic of opened) await atomic.discard(error);
    throw error;
  }
  for (const atomic of opened) await atomic.commit();
  return files.map((file) => file.path);
}

/** sqitch.plan with the change added at its end; a new plan names the project lead_dedupe. */
async function sqitchPlanText(folder: string, entry: { change: string; line: string }, overwrite: boolean): Promise<string> {
  const path = join(folder, 'sqitch.plan');
  const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new UsageError(`${FLAG}: cannot read ${path}: ${error.message}; nothing was written`);
  });
  if (current === null) return `%syntax-version=1.0.0\n%project=lead_dedupe\n\n${entry.line}\n`;
  const listed = current.split('\n').some((line) => line.split(/\s/)[0] === entry.change);
  if (listed && !overwrite) {
    throw new UsageError(
      `${FLAG}: sqitch.plan lists the change ${entry.change} already; choose another --migration-name (or --overwrite to rewrite its scripts); nothing was written`,
    );
  }
  if (listed) return current;
  return `${current}${current.endsWith('\n') || current === '' ? '' : '\n'}${entry.line}\n`;
}

async function writable(path: string): Promise<boolean> {
  return access(path, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
}
