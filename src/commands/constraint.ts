import { Command } from 'commander';
import type { ActionRunner } from '../cli/program.js';
import { constraintAddCommand } from './constraint-add.js';
import { constraintDropCommand } from './constraint-drop.js';
import { constraintStatusCommand } from './constraint-status.js';

/** `lead-dedupe constraint add|status|drop`: lock a uniqueness rule in with a unique constraint or index. */
export function constraintCommand(run: ActionRunner): Command {
  const command = new Command('constraint').description('add, inspect and drop the unique constraint that locks a key in');
  // addCommand does not pass settings down: each subcommand must hand its errors to main itself.
  for (const sub of [constraintAddCommand(run), constraintStatusCommand(run), constraintDropCommand(run)]) {
    command.addCommand(sub.exitOverride().showHelpAfterError('(run with --help for usage)'));
  }
  return command;
}
