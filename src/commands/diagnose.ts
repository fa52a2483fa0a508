import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, outputOptions, REPORT_FORMATS, tableOptions, type KeyFlags } from '../cli/options.js';
import { withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings, type TableSettings } from '../cli/settings.js';
import { diagnose } from '../core/diagnose/diagnose.js';
import { diagnoseOptions, resolveDiagnoseSettings } from '../cli/diagnose-flags.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { stoppable } from '../cli/interrupt.js';
import { ExitCode, UsageError } from '../errors.js';
import { renderDiagnose } from '../render/diagnose/index.js';

const DIAGNOSE_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the key to diagnose: a preset or columns a,b,c (default: device-phone, or the config default key)'),
  ...diagnoseOptions(),
  ...outputOptions(REPORT_FORMATS),
] as const;

type Flags = FlagsOf<typeof DIAGNOSE_OPTIONS>;

export const diagnoseCommand = defineCommand({
  name: 'diagnose',
  description: 'why duplicates arise under one key: timing, trend, what copies change, and four answers',
  options: DIAGNOSE_OPTIONS,
  examples: ['lead-dedupe diagnose --key device-phone', 'lead-dedupe diagnose --key device-phone --by source --race-window 500ms --format json'],
  exitCodes: COMMON_EXIT_CODES,
  run: runDiagnose,
});

/** The one key diagnose and report look at: --key, the config's `commands.diagnose.key`, or device-phone. */
export function diagnosedKey(flags: KeyFlags, settings: TableSettings): string {
  const keys = flags.key ?? [];
  if (keys.length > 1) throw new UsageError('diagnose takes one --key at a time, e.g. --key device-phone');
  const configured = settings.config.commands?.diagnose?.key;
  if (configured !== undefined && typeof configured !== 'string') throw new UsageError('config "commands.diagnose.key" must be a key name');
  return keys[0] ?? configured ?? 'device-phone';
}

async function runDiagnose(flags: Flags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const diagnoseSettings = resolveDiagnoseSettings(flags, source);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const keyText = diagnosedKey(flags, settings);
  const report = await withDatabase(
    settings.target,
    (opened) =>
      stoppable(opened, 'nothing was written', async (database) => {
        const key = await loadOneKey(database.db, settings, keySettings, keyText, 'diagnose');
        return withSpinner('diagnosing', flags, () =>
          diagnose(database, { key, settings: diagnoseSettings, columnMap: settings.columnMap, commandLine: settings.commandLine }),
        );
      }),
    { connections: 3 },
  );
  await writeReport(renderDiagnose(report, flags.format, renderContext(settings.target, flags)), flags);
  return ExitCode.ok;
}
