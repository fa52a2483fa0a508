import type { CommandSpec } from '../cli/command-spec.js';
import { cleanCommand } from './clean.js';
import { connectionCommand } from './connection.js';
import { constraintCommand } from './constraint.js';
import { demoCommand } from './demo.js';
import { diagnoseCommand } from './diagnose.js';
import { indexCommand } from './index-group.js';
import { reportCommand } from './report.js';
import { restoreCommand } from './restore.js';
import { runsCommand } from './runs.js';
import { scanCommand } from './scan.js';
import { seedCommand } from './seed.js';
import { suspectsCommand } from './suspects.js';
import { reviewCommand } from './review.js';
import { sqlCommand } from './sql-upsert.js';
import { raceCommand } from './race.js';
import { completionCommand } from './completion.js';
import { manCommand } from './man.js';

/** Every command, in the order --help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  scanCommand,
  diagnoseCommand,
  suspectsCommand,
  reviewCommand,
  reportCommand,
  seedCommand,
  demoCommand,
  constraintCommand,
  indexCommand,
  sqlCommand,
  raceCommand,
  cleanCommand,
  runsCommand,
  restoreCommand,
  completionCommand,
  manCommand,
  connectionCommand,
];
