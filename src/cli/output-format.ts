import { extname } from 'node:path';
import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';

/** File extensions that name a format (a Prometheus textfile ends in .prom). */
const FORMAT_OF_EXTENSION = new Map([
  ['csv', 'csv'],
  ['json', 'json'],
  ['html', 'html'],
  ['sql', 'sql'],
  ['prom', 'prometheus'],
]);

/**
 * `--output report.csv` without --format writes CSV: the file's extension picks the format
 * when neither the command line nor the config chose one. A format that contradicts the
 * extension (`--format table --output x.json`), or an extension naming a format the command
 * does not write (`clean --output x.csv`), is an error (exit 2) rather than a surprise file.
 * An extension that names no format (.txt, .out) keeps the default.
 */
export function resolveOutputFormat(command: Command, options: readonly Option[]): void {
  const formatOption = options.find((option) => option.long === '--format');
  const output = command.opts<{ output?: string }>().output;
  if (formatOption === undefined || output === undefined || output === '-') return;
  const named = FORMAT_OF_EXTENSION.get(extname(output).slice(1).toLowerCase());
  if (named === undefined) return;
  const offered = formatOption.argChoices ?? [];
  const format = command.getOptionValue('format') as string;
  if (command.getOptionValueSource('format') === 'default') {
    if (!offered.includes(named)) throw new UsageError(`--output ${output}: this command does not write ${named} (--format ${offered.join(', ')})`);
    command.setOptionValueWithSource('format', named, 'implied');
    return;
  }
  if (format !== named) throw new UsageError(`--output ${output} names ${named}, but --format is ${format}; drop one or make them agree`);
}
