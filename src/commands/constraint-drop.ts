import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Argument, Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { outputOptions, tableOptions } from '../cli/options.js';
import { writeReport, renderContext } from '../cli/output.js';
import { resolveTableSettings } from '../cli/settings.js';
import { dropConstraint } from '../core/constraint/drop.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../core/constraint/options.js';
import { optionalDuration } from '../cli/parse/duration.js';
import { loadLeadTable } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderConstraintDrop } from '../render/constraint-drop/index.js';

const CONSTRAINT_DROP_OPTIONS = [
  ...tableOptions(),
  ...outputOptions(['table', 'json']),
  new Option('--execute', 'really drop it (default: print what would run)'),
  new Option('--lock-timeout <duration>', 'lock_timeout for ALTER TABLE … DROP CONSTRAINT, e.g. 5s (default: 5s)'),
] as const;

type DropFlags = FlagsOf<typeof CONSTRAINT_DROP_OPTIONS>;

export const constraintDropCommand = defineCommand({
  name: 'drop',
  description: 'drop a unique constraint or unique index (CONCURRENTLY for an index); dry run unless --execute',
  arguments: [new Argument('<name>', 'constraint or index name (see constraint status)')],
  options: CONSTRAINT_DROP_OPTIONS,
  examples: ['lead-dedupe constraint drop leads_device_id_phone_key', 'lead-dedupe constraint drop leads_device_id_phone_key --execute'],
  exitCodes: { ...COMMON_EXIT_CODES, [ExitCode.lockHeld]: 'the ALTER hit --lock-timeout; nothing was dropped' },
  run: runDrop,
});

async function runDrop(flags: DropFlags, [name]: string[], { source }: RunContext): Promise<ExitCode> {
  const lockTimeoutMs = optionalDuration(flags.lockTimeout, source('--lock-timeout'), 1, DEFAULT_LOCK_TIMEOUT_MS);
  const settings = resolveTableSettings(flags);
  const result = await withDatabase(settings.target, async (database) => {
    const table = await loadLeadTable(database.db, settings, 'constraint drop');
    return dropConstraint(database, { table, name: name!, lockTimeoutMs, execute: flags.execute ?? false });
  });
  await writeReport(renderConstraintDrop(result, flags.format, renderContext(settings.target, flags)), flags);
  return ExitCode.ok;
}
