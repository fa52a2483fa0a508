import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, oneKeyFlag, outputOptions, tableOptions } from '../cli/options.js';
import { renderContext, writeReport } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { dropKeyIndex } from '../core/key-index/drop-index.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderIndexDrop } from '../render/index-drop/index.js';

const INDEX_DROP_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the key whose index to drop: a preset (device-phone, …) or columns a,b,c'),
  new Option('--name <name>', 'index name (default: <table>_<columns>_idx, as index add names it)'),
  new Option('--execute', 'really drop it (default: print what would run)'),
  ...outputOptions(['table', 'json']),
] as const;

type DropFlags = FlagsOf<typeof INDEX_DROP_OPTIONS>;

export const indexDropCommand = defineCommand({
  name: 'drop',
  description: 'drop the plain index index add built for the key (CONCURRENTLY); never a unique one; dry run unless --execute',
  options: INDEX_DROP_OPTIONS,
  examples: ['lead-dedupe index drop --key device-phone', 'lead-dedupe index drop --key device-phone --execute'],
  exitCodes: COMMON_EXIT_CODES,
  run: runDrop,
});

async function runDrop(flags: DropFlags): Promise<ExitCode> {
  const keyText = oneKeyFlag(flags, 'index drop');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const result = await withDatabase(settings.target, async (database) => {
    const key = await loadOneKey(database.db, settings, keySettings, keyText, 'index drop');
    return dropKeyIndex(database, { key, name: flags.name, execute: flags.execute ?? false });
  });
  await writeReport(renderIndexDrop(result, flags.format, renderContext(settings.target, flags)), flags);
  return ExitCode.ok;
}
