import { basename, delimiter, dirname, isAbsolute, relative, sep } from 'node:path';

/**
 * The words a suggested command starts with, so that it runs as printed in
 * the shell this run was started from (derived once per run, in
 * commandLineContext and renderContext):
 * - an installed bin on PATH (`npm install -g`): `lead-dedupe`;
 * - through npx / npm exec (a bin link under node_modules/.bin): `npx lead-dedupe`;
 * - `node path/to/bin/lead-dedupe.js`, as `npm run demo` does: `node` and
 *   that path, relative when the user's folder holds it, else absolute;
 * - a bin link anywhere else: its absolute path.
 * argv[1] decides first: npm's variables are inherited by everything a
 * script starts (a test runner under `npx vitest` included).
 */
export function invocationWords(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string[] {
  const script = argv[1];
  if (script === undefined) return ['lead-dedupe'];
  if (script.endsWith('.js') || script.endsWith('.mjs')) return ['node', fromUsersFolder(script, env, cwd)];
  if (env.npm_command === 'exec' && script.includes(`${sep}node_modules${sep}.bin${sep}`)) return ['npx', 'lead-dedupe'];
  const onPath = (env.PATH ?? '').split(delimiter).includes(dirname(script));
  return [onPath ? basename(script) : script];
}

/** `npm run` starts scripts in the package's folder; the user typed it in INIT_CWD, where only an absolute path is sure to work. */
function fromUsersFolder(script: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const usersFolder = env.npm_lifecycle_event !== undefined && env.INIT_CWD !== undefined ? env.INIT_CWD : cwd;
  if (usersFolder !== cwd) return script;
  const path = relative(cwd, script);
  return path === '' || path.startsWith('..') || isAbsolute(path) ? script : path;
}
