// Bundles the CLI and the library entry into dist/ (npm run build runs tsc first).
// One file each: start-up is about half of loading ~400 modules one by one.
import { build } from 'esbuild';

const shared = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
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
  build({ ...shared, entryPoints: ['src/program/main.ts'], outfile: 'dist/lead-dedupe.mjs' }),
  build({ ...shared, entryPoints: ['src/index.ts'], outfile: 'dist/index.mjs' }),
]);
