#!/usr/bin/env node
// `npm run demo` on a fresh clone: build the bundle once when it is missing. (The build is `prepack`, not
// `prepare`, so the published package carries no install script for npm to warn about.)
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (!existsSync(fileURLToPath(new URL('../dist/lead-dedupe.cjs', import.meta.url)))) {
  console.error('building lead-dedupe once (npm run build)…');
  execSync('npm run --silent build', { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) });
}
