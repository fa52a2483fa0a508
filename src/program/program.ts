import { Command } from 'commander';
import { COMMANDS } from '../commands/index.js';
import type { ExitCode } from '../errors.js';
import packageJson from '../../package.json' with { type: 'json' };
import { checkOutputPaths } from '../cli/atomic-file.js';
import type { CommandSpec } from '../cli/command-spec.js';
import { EXIT_CODES_HELP } from '../cli/exit-codes-help.js';

/** Runs a command and hands its exit code back to main. */
export type ActionRunner = (action: () => Promise<ExitCode>) => Promise<void>;

/** The one place that turns command specs into commander commands. */
export function buildProgram(run: ActionRunner): Command {
  const program = new Command('lead-dedupe')
    .description('Audit, clean and lock in uniqueness rules for duplicate leads in PostgreSQL')
    .version(packageJson.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // Every command's output files are checked before its action runs, so none changes data and then
    // finds it cannot write its report (exit 2 means nothing was changed).
    .hook('preAction', async (_program, action) => {
      const flags = action.opts<{ output?: string; details?: string; exportRemoved?: string; quiet?: boolean }>();
      const reportOnStdout = (flags.output === undefined || flags.output === '-') && !flags.quiet;
      await checkOutputPaths({ '--output': flags.output, '--details': flags.details, '--export-removed': flags.exportRemoved }, reportOnStdout);
    });
  for (const spec of COMMANDS) program.addCommand(mount(spec, run));
  return program;
}

function mount(spec: CommandSpec, run: ActionRunner): Command {
  const command = new Command(spec.name).description(spec.description).exitOverride().showHelpAfterError('(run with --help for usage)');
  for (const argument of spec.arguments ?? []) command.addArgument(argument);
  for (const option of spec.options ?? []) command.addOption(option);
  for (const sub of spec.subcommands ?? []) command.addCommand(mount(sub, run));
  const action = spec.run;
  if (action !== undefined) {
    command.action((...received: unknown[]) => {
      // commander passes the positional arguments, then the options object, then the command
      const args = received.slice(0, spec.arguments?.length ?? 0) as string[];
      return run(() => action(command.opts() as never, args));
    });
    const examples = spec.examples?.length ? `\nExamples:\n${spec.examples.map((line) => `  $ ${line}`).join('\n')}\n` : '';
    command.addHelpText('after', `${examples}${EXIT_CODES_HELP}`);
  }
  return command;
}
