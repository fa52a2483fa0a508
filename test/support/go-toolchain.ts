import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's Go toolchain and drivers, offline: no module proxy is reachable,
 * so builds run in GOPATH mode with /usr/share/gocode (golang-github-lib-pq-dev,
 * golang-github-jackc-pgx-v4-dev) after a GOPATH of the test's own.
 */
export const HAVE_GO = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;

if (!HAVE_GO && process.env.CI) throw new Error('CI must run the Go client suite: go is missing (.ci/run installs golang-go)');

export interface GoWorkspace {
  gopath: string;
  env: NodeJS.ProcessEnv;
  /** Writes files into $GOPATH/src/<pkg>. */
  writePackage(pkg: string, files: Record<string, string>): string;
  /** `go test -c` the package into a binary; returns its path. */
  compileTest(pkg: string): string;
  /** Files gofmt would change (gofmt -l). */
  gofmtList(dir: string): string[];
  /** Removes the GOPATH, the build cache (~50 MB) and the test binaries. */
  dispose(): void;
}

export function goWorkspace(): GoWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'lead-dedupe-go-'));
  const gopath = join(root, 'gopath');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `${gopath}:/usr/share/gocode`,
    // one build cache for the file: the drivers compile once, not per variant
    GOCACHE: join(root, 'cache'),
    GOFLAGS: '',
    GOPROXY: 'off',
  };
  return {
    gopath,
    env,
    writePackage(pkg, files) {
      const dir = join(gopath, 'src', pkg);
      mkdirSync(dir, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      return dir;
    },
    compileTest(pkg) {
      const binary = join(root, `${pkg.replaceAll('/', '_')}.test`);
      execFileSync('go', ['test', '-c', '-o', binary, pkg], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      return binary;
    },
    gofmtList(dir) {
      return execFileSync('gofmt', ['-l', dir], { env, encoding: 'utf8' }).split('\n').filter(Boolean);
    },
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
