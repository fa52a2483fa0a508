// Loads the CLI bundle (dist/lead-dedupe.cjs) with V8's code cache for it (dist/lead-dedupe.cjs.cache, written by
// `npm run build`): compiling the 1.5 MB bundle was the largest part of start-up, and Node 20 caches the code of no
// ES module (bench/README.md, round 7). The bundle is CommonJS so that vm.Script can take the cache. A cache made by
// another Node version or with other V8 flags is rejected by V8 itself, and the bundle is compiled as without one.
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const CLI_BUNDLE = fileURLToPath(new URL('../dist/lead-dedupe.cjs', import.meta.url));
export const CLI_CODE_CACHE = `${CLI_BUNDLE}.cache`;

/**
 * Compiles and evaluates the bundle as Node would a CommonJS module, with the cached code when there is one.
 * Returns its exports and the script (the build makes the cache from it) and whether V8 took the cache.
 */
export function loadCli(cachedData = readCache()) {
  const require = createRequire(CLI_BUNDLE);
  // The bundle has no import(): a vm.Script could only run one through an experimental loader (scripts/bundle.mjs).
  const script = new vm.Script(Module.wrap(readFileSync(CLI_BUNDLE, 'utf8')), { filename: CLI_BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, require, module, CLI_BUNDLE, dirname(CLI_BUNDLE));
  return { exports: module.exports, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

function readCache() {
  try {
    return readFileSync(CLI_CODE_CACHE);
  } catch {
    return undefined;
  }
}
