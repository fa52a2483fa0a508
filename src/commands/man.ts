import type { CommandSpec, RunContext } from '../cli/command-spec.js';
import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { manPage } from '../render/cli-reference/man-page.js';
import { ExitCode } from '../errors.js';

export const manCommand: CommandSpec = {
  name: 'man',
  description: 'print the man page (roff); the package installs it as man/lead-dedupe.1',
  examples: ['lead-dedupe man | man -l -'],
  exitCodes: { [ExitCode.ok]: COMMON_EXIT_CODES[ExitCode.ok] },
  run: async (_flags: never, _args: string[], context: RunContext) => {
    process.stdout.write(manPage(context.program()));
    return ExitCode.ok;
  },
};
