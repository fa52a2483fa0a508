// Bundles the CLI and the library entry into dist/ (npm run build runs tsc first).
// Bundled and minified: start-up is about half of loading ~400 modules one by one, and compiling the bundle is most of
// the rest (41 ms minified against 49 ms, of a scan's 0.15 s start). Split at dynamic imports (what only some
// commands need: zod for plan files, prom-client, ora, PGlite's dialect) into dist/chunks/, loaded when first used.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a content hash: the last build's chunks would otherwise pile up (and ship).
rmSync('dist/chunks', { recursive: true, force: true });

const shared = {
  bundle: true,
  splitting: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  // PGlite ships WASM beside its JS and is loaded only for pglite: targets.
  external: ['@electric-sql/pglite', 'kysely-pglite-dialect', 'pg-native'],
  // Bundled CommonJS dependencies (pg) call require().
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
  // pg probes for Cloudflare Workers with `new Response()` where Node has no `navigator` (Node 20): that loads undici,
  // 16 ms of a 0.2 s start-up in a CPU profile. Nothing else in the bundle names Response.
  define: { Response: 'undefined' },
};

await Promise.all([
  build({ ...shared, entryPoints: { 'lead-dedupe': 'src/program/main.ts' }, chunkNames: 'chunks/cli-[hash]' }),
  build({ ...shared, entryPoints: { index: 'src/index.ts' }, chunkNames: 'chunks/lib-[hash]' }),
]);
