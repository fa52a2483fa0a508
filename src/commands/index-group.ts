import type { CommandSpec } from '../cli/command-spec.js';
import { indexAddCommand } from './index-add.js';
import { indexDropCommand } from './index-drop.js';

/** `lead-dedupe index add|drop`: the plain index on a key's expressions that makes scan --since proportional to the new rows. */
export const indexCommand: CommandSpec = {
  name: 'index',
  description: "add or drop a plain index on a key's expressions (makes scan --since fast)",
  subcommands: [indexAddCommand, indexDropCommand],
};
