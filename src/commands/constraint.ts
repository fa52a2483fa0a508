import type { CommandSpec } from '../cli/command-spec.js';
import { constraintAddCommand } from './constraint-add.js';
import { constraintDropCommand } from './constraint-drop.js';
import { constraintStatusCommand } from './constraint-status.js';

/** `lead-dedupe constraint add|status|drop`: lock a uniqueness rule in with a unique constraint or index. */
export const constraintCommand: CommandSpec = {
  name: 'constraint',
  description: 'add, inspect and drop the unique constraint that locks a key in',
  subcommands: [constraintAddCommand, constraintStatusCommand, constraintDropCommand],
};
