#!/usr/bin/env node
// Keeps the README's usage blocks equal to the program's own --help (build first: npm run build).
// Each block sits between `<!-- usage: <command words> -->` and `<!-- /usage -->`.
//   node scripts/readme-usage.mjs          rewrite the blocks
//   node scripts/readme-usage.mjs --check  exit 1 and name the stale blocks
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const bin = fileURLToPath(new URL('../bin/lead-dedupe.js', import.meta.url));
const BLOCK = /<!-- usage: ([a-z -]+) -->\n[\s\S]*?<!-- \/usage -->/g;

/** --help as a pipe sees it: 80 columns, no colour. */
function help(words) {
  const env = { ...process.env, COLUMNS: '80', NO_COLOR: '1' };
  return execFileSync(process.execPath, [bin, ...words.split(' '), '--help'], { env, encoding: 'utf8' }).trimEnd();
}

const before = readFileSync(readme, 'utf8');
const stale = [];
const after = before.replace(BLOCK, (block, words) => {
  const fresh = `<!-- usage: ${words} -->\n\`\`\`text\n${help(words)}\n\`\`\`\n<!-- /usage -->`;
  if (fresh !== block) stale.push(words);
  return fresh;
});
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    console.error(`README usage is stale for: ${stale.join(', ')} (run node scripts/readme-usage.mjs)`);
    process.exit(1);
  }
} else if (after !== before) {
  writeFileSync(`${readme}.tmp`, after);
  renameSync(`${readme}.tmp`, readme);
  console.log(`README usage updated: ${stale.join(', ')}`);
}
