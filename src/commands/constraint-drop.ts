import { Command } from 'commander';
import { addOutputOptions, addTableOptions, type OutputFlags, type TableFlags } from '../cli/common-options.js';
import { writeReport } from '../cli/output.js';
import type { ActionRunner } from '../cli/program.js';
import { resolveTableSettings } from '../cli/settings.js';
import { dropConstraint } from '../core/constraint/drop.js';
import { DEFAULT_LOCK_TIMEOUT } from '../core/constraint/options.js';
import { loadLeadTable } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderConstraintDrop } from '../render/constraint-drop.js';

type DropFlags = TableFlags & Omit<OutputFlags, 'format'> & { format: 'table' | 'json'; execute?: boolean; lockTimeout: string };

export function constraintDropCommand(run: ActionRunner): Command {
  const command = new Command('drop')
    .description('drop a unique constraint or unique index (CONCURRENTLY for an index); dry run unless --execute')
    .argument('<name>', 'constraint or index name (see constraint status)');
  addTableOptions(command);
  addOutputOptions(command, ['table', 'json']);
  return command
    .option('--execute', 'really drop it (default: print what would run)')
    .option('--lock-timeout <duration>', 'lock_timeout for ALTER TABLE … DROP CONSTRAINT, e.g. 5s', DEFAULT_LOCK_TIMEOUT)
    .action((name: string, flags: DropFlags) => run(() => runDrop(name, flags)));
}

async function runDrop(name: string, flags: DropFlags): Promise<ExitCode> {
  const settings = resolveTableSettings(flags);
  const result = await withDatabase(settings.target, async (database) => {
    const table = await loadLeadTable(database.db, settings, 'constraint drop');
    return dropConstraint(database, { table, name, lockTimeout: flags.lockTimeout, execute: flags.execute ?? false });
  });
  await writeReport(renderConstraintDrop(result, flags.format), flags);
  return ExitCode.ok;
}
