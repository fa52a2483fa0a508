import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
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

  it('writes a new file inside a linked folder; refuses a link to a missing file and a link loop', async () => {
    const folder = fresh();
    const real = join(folder, 'a', 'b');
    mkdirSync(real, { recursive: true });
    symlinkSync(real, join(folder, 'linked'));
    await writeFileAtomically(join(folder, 'linked', 'new.csv'), 'new\n', '--details');
    expect(readFileSync(join(real, 'new.csv'), 'utf8')).toBe('new\n');
    // `..` after a link leaves the link's target, as the kernel resolves it: linked/.. is a, not folder.
    await writeFileAtomically(`${folder}/linked/../up.csv`, 'up\n', '--details');
    expect(readFileSync(join(folder, 'a', 'up.csv'), 'utf8')).toBe('up\n');
    expect(readdirSync(folder).includes('up.csv')).toBe(false);
    symlinkSync(join(folder, 'missing.csv'), join(folder, 'dangling.csv'));
    symlinkSync(join(folder, 'loop-b'), join(folder, 'loop-a'));
    symlinkSync(join(folder, 'loop-a'), join(folder, 'loop-b'));
    const refused = (path: string) =>
      checkOutputPaths({ '--details': path }, false).then(
        () => 'accepted',
        (error: unknown) => (error instanceof UsageError ? error.message : `unexpected ${String(error)}`),
      );
    expect(await refused(join(folder, 'dangling.csv'))).toBe(
      `--details ${join(folder, 'dangling.csv')}: is a symbolic link to a missing file; nothing was changed`,
    );
    expect(await refused(join(folder, 'loop-a'))).toBe(`--details ${join(folder, 'loop-a')}: has too many levels of symbolic links; nothing was changed`);
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

/** uid and gid of `nobody`: the other user who plants links (the tests run as root, who may chown). */
const NOBODY = 65534;
const asRoot = process.geteuid?.() === 0;

describe.skipIf(!asRoot)('a symbolic link someone else planted in a shared folder (fs.protected_symlinks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-planted-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A sticky world-writable folder (mode 1777, like /tmp) and a file of ours outside it that a link points at. */
  const setUp = (name: string, folderMode = 0o1777) => {
    const shared = join(dir, `${name}-shared`);
    mkdirSync(shared);
    chmodSync(shared, folderMode);
    const target = join(dir, `${name}-target.csv`);
    writeFileSync(target, 'important\n');
    return { shared, target };
  };
  const refused = (path: string, flag = '--output') =>
    checkOutputPaths({ [flag]: path }, false).then(
      () => 'accepted',
      (error: unknown) => (error instanceof UsageError ? error.message : `unexpected ${String(error)}`),
    );

  it('is refused (exit 2) before anything is written, and its target stays as it was', async () => {
    const { shared, target } = setUp('refused');
    const link = join(shared, 'x.csv');
    symlinkSync(target, link);
    lchownSync(link, NOBODY, NOBODY);
    expect(await refused(link)).toBe(
      `--output ${link}: symbolic link ${link} belongs to uid ${NOBODY}, neither you nor the owner of ${shared} (sticky and writable by everyone), ` +
        'so anyone could have pointed it anywhere: not followed; name the file itself, or a path in a folder of your own; nothing was changed',
    );
    await expect(writeFileAtomically(link, 'new\n', '--output')).rejects.toThrow(FileWriteError);
    expect(readFileSync(target, 'utf8')).toBe('important\n');
    expect(readlinkSync(link)).toBe(target);
    expect(readdirSync(shared)).toEqual(['x.csv']);
  });

  it('a planted link to a folder on the way is refused too, and so is a chain through one', async () => {
    const { shared, target } = setUp('chain');
    const folderLink = join(shared, 'reports');
    symlinkSync(dir, folderLink);
    lchownSync(folderLink, NOBODY, NOBODY);
    expect(await refused(join(folderLink, 'chain-target.csv'))).toMatch(/: symbolic link .*\/reports belongs to uid 65534/);
    // Ours, in a folder of ours, pointing at the planted one: refused at the second link.
    const ours = join(dir, 'ours.csv');
    const planted = join(shared, 'planted.csv');
    symlinkSync(target, planted);
    lchownSync(planted, NOBODY, NOBODY);
    symlinkSync(planted, ours);
    expect(await refused(ours, '--details')).toMatch(new RegExp(`^--details ${ours}: symbolic link ${planted} belongs to uid 65534`));
    await expect(writeFileAtomically(ours, 'new\n', '--details')).rejects.toThrow(FileWriteError);
    expect(readFileSync(target, 'utf8')).toBe('important\n');
  });

  it("is followed when it is ours, the folder owner's, or the folder is not both sticky and world-writable", async () => {
    const cases = [
      { name: 'ours', owner: 0, folderMode: 0o1777, folderOwner: 0 },
      { name: 'folder-owner', owner: NOBODY, folderMode: 0o1777, folderOwner: NOBODY },
      { name: 'not-sticky', owner: NOBODY, folderMode: 0o777, folderOwner: 0 },
      { name: 'sticky-private', owner: NOBODY, folderMode: 0o1755, folderOwner: 0 },
    ];
    for (const { name, owner, folderMode, folderOwner } of cases) {
      const { shared, target } = setUp(name, folderMode);
      chownSync(shared, folderOwner, folderOwner);
      const link = join(shared, 'x.csv');
      symlinkSync(target, link);
      lchownSync(link, owner, owner);
      expect({ name, result: await refused(link) }).toEqual({ name, result: 'accepted' });
      await writeFileAtomically(link, 'new\n', '--output');
      expect({ name, content: readFileSync(target, 'utf8') }).toEqual({ name, content: 'new\n' });
      expect(readlinkSync(link)).toBe(target);
    }
  });
});

describe('file modes under umask 022 (lead data private, metrics shared)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-modes-'));
  let umask = 0;
  beforeEach(() => {
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modeOf = (path: string) => statSync(path).mode & 0o7777;

  it('a new file is 0600 by default (lead data) and 0644 when shared (the metrics file)', async () => {
    await writeFileAtomically(join(dir, 'report.json'), '{}\n', '--output');
    expect(modeOf(join(dir, 'report.json'))).toBe(0o600);
    const streamed = await openAtomicFile(join(dir, 'details.csv'), '--details');
    streamed.stream.write('a,b\n');
    await streamed.commit();
    expect(modeOf(join(dir, 'details.csv'))).toBe(0o600);
    await writeFileAtomically(join(dir, 'scan.prom'), 'x 1\n', '--metrics-file', 'shared');
    expect(modeOf(join(dir, 'scan.prom'))).toBe(0o644);
  });

  it("0600 even under a umask that would take the owner's write bit", async () => {
    process.umask(0o277);
    await writeFileAtomically(join(dir, 'strict.json'), '{}\n', '--output');
    expect(modeOf(join(dir, 'strict.json'))).toBe(0o600);
  });

  it('a replaced file of ours keeps its mode', async () => {
    const path = join(dir, 'kept.csv');
    writeFileSync(path, 'old\n');
    chmodSync(path, 0o640);
    await writeFileAtomically(path, 'new\n', '--details');
    expect(modeOf(path)).toBe(0o640);
  });

  it.skipIf(!asRoot)("a replaced file of someone else's becomes a new private file of ours", async () => {
    const path = join(dir, 'theirs.csv');
    writeFileSync(path, 'old\n');
    chmodSync(path, 0o644);
    chownSync(path, NOBODY, NOBODY);
    await writeFileAtomically(path, 'new\n', '--plan-csv');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect({ mode: modeOf(path), uid: statSync(path).uid }).toEqual({ mode: 0o600, uid: 0 });
  });
});
