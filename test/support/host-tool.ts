import { spawnSync } from 'node:child_process';

/**
 * Whether a program a suite drives (bash, zsh, fish, groff, systemd-analyze) is installed. A newcomer's
 * `npm test` skips what their machine lacks, in the suite's name; CI must run everything (.ci/run
 * installs each), so there a missing one is an error.
 */
export function haveTool(command: string, debianPackage: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.CI) throw new Error(`CI must run the suites that use ${command}: it is missing (.ci/run installs ${debianPackage})`);
  return found;
}
