// Bundles the CLI and the library entry into dist/ (npm run build runs tsc first), then writes V8's code cache for
// the CLI. Bundled and minified: start-up is about half of loading ~400 modules one by one, and compiling the bundle
// is most of the rest. The CLI is one CommonJS file (dist/lead-dedupe.cjs) because Node 20 caches the compiled code
// of a vm.Script but of no ES module: bin/load-cli.js compiles it from dist/lead-dedupe.cjs.cache (bench/README.md,
// round 7). What only some commands need (zod for plan files, prom-client, ora) stays behind its dynamic import,
// evaluated when first used. The library entry stays an ES module, split at its dynamic imports into dist/chunks/.
import { rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { CLI_CODE_CACHE, loadCli } from '../bin/load-cli.js';

// Chunk names carry a content hash: the last build's chunks would otherwise pile up (and ship).
rmSync('dist/chunks', { recursive: true, force: true });
rmSync(CLI_CODE_CACHE, { force: true });

const shared = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  outdir: 'dist',
  // PGlite ships WASM beside its JS and is loaded only for pglite: targets.
  external: ['@electric-sql/pglite', 'kysely-pglite-dialect', 'pg-native'],
  logLevel: 'warning',
  // pg probes for Cloudflare Workers with `new Response()` where Node has no `navigator` (Node 20): that loads undici,
  // 16 ms of a 0.2 s start-up in a CPU profile. Nothing else in the bundle names Response.
  define: { Response: 'undefined' },
};

const [cli] = await Promise.all([
  build({
    ...shared,
    format: 'cjs',
    entryPoints: { 'lead-dedupe': 'src/program/main.ts' },
    outExtension: { '.js': '.cjs' },
    // A vm.Script has no dynamic import() (it needs an experimental loader); PGlite's packages are loaded with require().
    supported: { 'dynamic-import': false },
    metafile: true,
  }),
  build({
    ...shared,
    format: 'esm',
    splitting: true,
    entryPoints: { index: 'src/index.ts' },
    chunkNames: 'chunks/lib-[hash]',
    outExtension: { '.js': '.mjs' },
    // Bundled CommonJS dependencies (pg) call require().
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  }),
]);
// Which modules the CLI loads at start and which only behind a dynamic import: test/e2e/cli-bundle.test.ts reads it.
writeFileSync('dist/lead-dedupe.meta.json', JSON.stringify(cli.metafile));

// The cache holds the code V8 compiled while evaluating the bundle's top level (defining the commands), as a start does.
writeFileSync(CLI_CODE_CACHE, loadCli(undefined).script.createCachedData());
