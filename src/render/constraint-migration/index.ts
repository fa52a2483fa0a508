import { renderAs, type RenderContext } from '../common/render-as.js';
import type { MigrationFormat } from './files.js';

export { MIGRATION_FORMATS, type MigrationFiles, type MigrationFormat } from './files.js';
export { renderMigrationFiles } from './formats.js';

/** What `constraint add --migration` reports once the files are written. */
export interface MigrationWritten {
  format: MigrationFormat;
  table: string;
  key: string;
  name: string;
  dir: string;
  files: string[];
  run: string[];
}

export function renderMigrationWritten(result: MigrationWritten, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(format, { table: () => text(result), json: () => result }, context);
}

function text(result: MigrationWritten): string {
  return [
    `wrote ${result.format} migration files for "${result.name}" (key ${result.key} on ${result.table}) to ${result.dir}; the database was not changed:`,
    ...result.files.map((file) => `  ${file}`),
    ...result.run.map((line) => `  ${line}`),
    '',
  ].join('\n');
}
