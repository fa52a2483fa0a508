import { Command } from 'commander';
import { COMMANDS } from '../commands/index.js';
import type { ExitCode } from '../errors.js';
import packageJson from '../../package.json' with { type: 'json' };
import { checkOutputPaths } from '../cli/atomic-file.js';
import { applySection, checkCommandSections, sectionFor } from '../cli/command-config.js';
import type { CommandSpec } from '../cli/command-spec.js';
import { cliProgram } from '../cli/cli-tree.js';
import { loadConfigFile } from '../cli/config-file.js';
import { examplesHelp } from '../cli/examples-help.js';
import { exitCodesHelp, HELP_WIDTH } from '../cli/exit-codes-help.js';
import { resolveOutputFormat } from '../cli/output-format.js';

/**
 * commander's output: help at most 80 columns wide, and its own errors (unknown command or option, a bad
 * choice) in the tool's one format: `lead-dedupe: <message>` on one line, its suggestion folded in; the
 * help hint follows on a second.
 */
const OUTPUT = {
  getOutHelpWidth: () => helpWidth(process.stdout),
  getErrHelpWidth: () => helpWidth(process.stderr),
  outputError: (text: string, write: (text: string) => void) => {
    const [first = '', ...rest] = text.trim().split('\n');
    const suggestion = rest.find((line) => line.startsWith('(Did you mean'));
    write(`lead-dedupe: ${first.replace(/^error: /, '')}${suggestion === undefined ? '' : ` (d${suggestion.slice(2)}`}\n`);
  },
};

/** At most 80 columns, fewer on a narrower terminal. */
function helpWidth(stream: NodeJS.WriteStream): number {
  return Math.min(stream.isTTY && stream.columns > 0 ? stream.columns : HELP_WIDTH, HELP_WIDTH);
}

/** The top-level help's tour, in the order a newcomer meets the commands. */
const TOUR = [
  'npm run demo   # no server: seed an embedded database and scan it',
  'lead-dedupe scan -d postgres://dba@db.internal/crm   # every preset key, side by side',
  'lead-dedupe diagnose --key device-phone   # why: races, retries, resubmissions',
  'lead-dedupe report --key device-phone --output report.html',
  'lead-dedupe clean --key device-phone   # dry run; --execute applies, restore undoes',
  'lead-dedupe constraint add --key device-phone --print-sql',
  'lead-dedupe sql upsert --key device-phone --on-duplicate fill',
];

const HEADER = {
  name: 'lead-dedupe',
  version: packageJson.version,
  description: 'Audit, clean and lock in uniqueness rules for duplicate leads in PostgreSQL',
};

/** Runs a command and hands its exit code back to main. */
export type ActionRunner = (action: () => Promise<ExitCode>) => Promise<void>;

/** The one place that turns command specs into commander commands. */
export function buildProgram(run: ActionRunner): Command {
  const program = new Command(HEADER.name)
    .description(HEADER.description)
    .version(HEADER.version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput(OUTPUT)
    .exitOverride()
    .addHelpText('after', `${examplesHelp(TOUR)}\nEach command's --help lists its options, examples and exit codes.\n`);
  for (const spec of COMMANDS) program.addCommand(mount(spec, [spec.name], run));
  return program;
}

function mount(spec: CommandSpec, path: string[], run: ActionRunner): Command {
  const command = new Command(spec.name).description(spec.description).exitOverride().showHelpAfterError('(run with --help for usage)').configureOutput(OUTPUT);
  for (const argument of spec.arguments ?? []) command.addArgument(argument);
  for (const option of spec.options ?? []) {
    // help shows every default the same way: (default: 10), not (default: "10")
    if (typeof option.defaultValue === 'string') option.defaultValueDescription ??= option.defaultValue;
    command.addOption(option);
  }
  for (const sub of spec.subcommands ?? []) command.addCommand(mount(sub, [...path, sub.name], run));
  const action = spec.run;
  if (action !== undefined) {
    command.action((...received: unknown[]) =>
      run(async () => {
        // commander passes the positional arguments, then the options object, then the command
        const args = received.slice(0, spec.arguments?.length ?? 0) as string[];
        const sources = await prepare(command, spec, path);
        return action(command.opts(), args, { source: (flag) => sources.get(flag) ?? flag, program: () => cliProgram(HEADER, COMMANDS) });
      }),
    );
    command.addHelpText('after', `${examplesHelp(spec.examples ?? [])}${exitCodesHelp(spec.exitCodes)}`);
  }
  return command;
}

/**
 * Before a command runs: the config file is checked whole (a typo anywhere is an error), its
 * `commands.<path>` section fills the flags the command line left unset, --output's extension
 * picks the format when none was chosen, and every output file
 * is checked, so none changes data and then finds it cannot write (exit 2 means nothing changed).
 */
async function prepare(command: Command, spec: CommandSpec, path: string[]): Promise<Map<string, string>> {
  const takesConfig = (spec.options ?? []).some((option) => option.long === '--config');
  const config = takesConfig ? loadConfigFile(command.opts<{ config?: string }>().config) : {};
  checkCommandSections(config.commands, COMMANDS);
  const sources = applySection(command, spec.options ?? [], sectionFor(config.commands, path), `commands.${path.join('.')}`);
  resolveOutputFormat(command, spec.options ?? []);
  const flags = command.opts<{
    output?: string;
    details?: string;
    exportRemoved?: string;
    metricsFile?: string;
    planOut?: string;
    planCsv?: string;
    quiet?: boolean;
  }>();
  const reportOnStdout = (flags.output === undefined || flags.output === '-') && !flags.quiet;
  await checkOutputPaths(
    {
      '--output': flags.output,
      '--details': flags.details,
      '--export-removed': flags.exportRemoved,
      '--metrics-file': flags.metricsFile,
      '--plan-out': flags.planOut,
      '--plan-csv': flags.planCsv,
    },
    reportOnStdout,
  );
  return sources;
}
