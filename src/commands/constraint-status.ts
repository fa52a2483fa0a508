import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { defineCommand } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, outputOptions, tableOptions } from '../cli/options.js';
import { writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { constraintStatus } from '../core/constraint/status.js';
import { loadLeadTable } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import type { LeadTable } from '../keys/key-definition.js';
import { resolveKeys, resolveNamedKeys, type KeySettings } from '../keys/resolve-key.js';
import { renderConstraintStatus } from '../render/constraint-status/index.js';

const CONSTRAINT_STATUS_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('keys to check (default: every preset the table can hold)'),
  ...outputOptions(['table', 'json']),
] as const;

type StatusFlags = FlagsOf<typeof CONSTRAINT_STATUS_OPTIONS>;

export const constraintStatusCommand = defineCommand({
  name: 'status',
  description: 'unique constraints and indexes on the table, and which keys they protect',
  options: CONSTRAINT_STATUS_OPTIONS,
  examples: ['lead-dedupe constraint status', 'lead-dedupe constraint status --key device-phone --format json'],
  exitCodes: COMMON_EXIT_CODES,
  run: runStatus,
});

async function runStatus(flags: StatusFlags): Promise<ExitCode> {
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const status = await withDatabase(settings.target, async (database) => {
    const table = await loadLeadTable(database.db, settings, 'constraint status');
    return constraintStatus(database, { table, ...keysToCheck(table, flags.key ?? [], keySettings) });
  });
  await writeReport(renderConstraintStatus(status, flags.format, renderContext(settings.target, flags)), flags);
  return ExitCode.ok;
}

/** Without --key, a table that holds no preset still gets its indexes listed: the keys are only reported as skipped. */
function keysToCheck(table: LeadTable, requested: string[], settings: KeySettings) {
  if (requested.length === 0) {
    const named = resolveNamedKeys(table, settings);
    if (named.keys.length === 0) return { keys: [], skippedKeys: named.skipped };
  }
  const { keys, skipped } = resolveKeys(table, requested, settings);
  return { keys, skippedKeys: skipped };
}
