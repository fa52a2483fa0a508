import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/cli.js';

const DIST = (name: string) => fileURLToPath(new URL(`../../dist/${name}`, import.meta.url));
const LOADER = fileURLToPath(new URL('../../bin/load-cli.js', import.meta.url));

interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/** The modules a start evaluates: everything the entry reaches by import statements and require calls, not through import(). */
function loadedAtStart(meta: Metafile, entry: string): Set<string> {
  const loaded = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const input = pending.pop()!;
    if (loaded.has(input)) continue;
    loaded.add(input);
    for (const edge of meta.inputs[input]?.imports ?? []) if (edge.kind !== 'dynamic-import') pending.push(edge.path);
  }
  return loaded;
}

const packageOf = (input: string) => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? (input.startsWith('src/') ? null : input);

/** Start-up (bench/README.md, round 7): what the CLI bundle loads before its first statement, and its code cache. */
describe('the CLI bundle (dist/lead-dedupe.cjs)', () => {
  it('loads zod, prom-client, ora and PGlite only behind their dynamic imports', () => {
    assertBuilt();
    const meta = JSON.parse(readFileSync(DIST('lead-dedupe.meta.json'), 'utf8')) as Metafile;
    const atStart = new Set([...loadedAtStart(meta, 'src/program/main.ts')].map(packageOf));
    const bundled = new Set(Object.keys(meta.inputs).map(packageOf));
    for (const lazy of ['zod', 'prom-client', 'ora']) {
      // bundled (so the check below is not vacuous), but not evaluated by a start
      expect(bundled, lazy).toContain(lazy);
      expect(atStart, lazy).not.toContain(lazy);
    }
    for (const external of ['@electric-sql/pglite', 'kysely-pglite-dialect']) expect(atStart, external).not.toContain(external);
    // the plan file's parser (zod) and the main entry's own modules
    expect(loadedAtStart(meta, 'src/program/main.ts')).not.toContain('src/clean/plan-file/plan-lines.ts');
    expect(atStart).toContain('commander');
  });

  it('has no import() left: a vm.Script (bin/load-cli.js) has no loader for one', () => {
    assertBuilt();
    expect(readFileSync(DIST('lead-dedupe.cjs'), 'utf8')).not.toMatch(/\bimport\(/);
  });

  it('is compiled from the code cache the build wrote, on the Node that built it', async () => {
    assertBuilt();
    // In a fresh process without flags, as bin/lead-dedupe.js runs: V8 rejects a cache made under other flags.
    const probe = `const { loadCli } = await import(${JSON.stringify(LOADER)}); const { cached, exports } = loadCli(); console.log(JSON.stringify({ cached, main: typeof exports.main }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], { env: { ...process.env, NODE_OPTIONS: '' } });
    expect(JSON.parse(stdout)).toEqual({ cached: true, main: 'function' });
  });
});
