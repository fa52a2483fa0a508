import { Command } from 'commander';
import { constraintCommand } from '../commands/constraint.js';
import { cleanCommand } from '../commands/clean.js';
import { demoCommand } from '../commands/demo.js';
import { diagnoseCommand } from '../commands/diagnose.js';
import { reportCommand } from '../commands/report.js';
import { restoreCommand } from '../commands/restore.js';
import { runsCommand } from '../commands/runs.js';
import { scanCommand } from '../commands/scan.js';
import { seedCommand } from '../commands/seed.js';
import { sqlCommand } from '../commands/sql-upsert.js';
import type { ExitCode } from '../errors.js';
import packageJson from '../../package.json' with { type: 'json' };
import { checkOutputPaths } from './atomic-file.js';

/** Runs a command's action and hands its exit code back to main. */
export type ActionRunner = (action: () => Promise<ExitCode>) => Promise<void>;

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
  for (const command of [scanCommand(run), seedCommand(run), demoCommand(run), constraintCommand(run), sqlCommand(run), cleanCommand(run), runsCommand(run), restoreCommand(run), diagnoseCommand(run), reportCommand(run)]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}
