import type { ColumnInfo } from '../../db/catalog.js';
import { UsageError } from '../../errors.js';
import type { ColumnRename } from './restore-columns-sql.js';

export type { ColumnRename } from './restore-columns-sql.js';

/** What the user said about archived columns the table no longer has. */
export interface ArchivedColumnChoices {
  /** `--map old=new`: the archived column's values go into the column of its new name. */
  renames: ColumnRename[];
  /** `--drop-column name`: the archived column's values are not restored. */
  dropColumns: string[];
}

/** How the archived rows are written back into the table as it is now. */
export interface RestoreShape {
  renames: ColumnRename[];
  /** Archived columns whose values are not restored (--drop-column). */
  dropped: string[];
  /** Columns added since the clean: left out of the INSERT, so they take their defaults. */
  added: string[];
  /** The columns the restore writes, by their names now. */
  columns: ColumnInfo[];
}

/**
 * Compares the archived row shape (the column names of the day of the
 * clean) with the table now, before anything changes: an archived column
 * the table lacks must be mapped to its new name or dropped explicitly,
 * else restore would silently lose its values (exit 2, naming them).
 * `insertable`: the table's columns restore may write (not computed ones);
 * `all`: every column, so an archived computed column is not "missing".
 */
export function matchArchivedColumns(
  archived: string[],
  table: { name: string; all: ColumnInfo[]; insertable: ColumnInfo[] },
  choices: ArchivedColumnChoices,
  runId: number,
): RestoreShape {
  // A run that archived no row has nothing to write back.
  if (archived.length === 0) return { renames: [], dropped: [], added: [], columns: table.insertable };
  const archivedSet = new Set(archived);
  const present = new Set(table.all.map((column) => column.name));
  const writable = new Set(table.insertable.map((column) => column.name));
  const renamed = new Map<string, string>();
  for (const { from, to } of choices.renames) {
    const flag = `--map ${from}=${to}`;
    if (!archivedSet.has(from)) throw new UsageError(`${flag}: run ${runId} archived no column ${from} (archived: ${archived.join(', ')})`);
    if (renamed.has(from)) throw new UsageError(`${flag}: ${from} is mapped twice`);
    if (!present.has(to)) throw new UsageError(`${flag}: ${table.name} has no column ${to}`);
    if (!writable.has(to)) throw new UsageError(`${flag}: ${table.name}.${to} is a generated column; restore cannot write it`);
    renamed.set(from, to);
  }
  for (const name of choices.dropColumns) {
    if (!archivedSet.has(name)) throw new UsageError(`--drop-column ${name}: run ${runId} archived no column ${name}`);
    if (renamed.has(name)) throw new UsageError(`--drop-column ${name}: ${name} is also mapped with --map`);
  }
  const dropped = new Set(choices.dropColumns);
  const targets = new Map<string, string>();
  for (const name of archived) {
    if (dropped.has(name)) continue;
    const to = renamed.get(name) ?? name;
    const other = targets.get(to);
    if (other !== undefined) {
      throw new UsageError(
        `run ${runId} archived both ${other} and ${name}, which would both go into ${table.name}.${to}; map or drop one of them (--map, --drop-column)`,
      );
    }
    targets.set(to, name);
  }
  const missing = [...targets.keys()].filter((name) => !present.has(name));
  if (missing.length > 0) {
    const first = missing[0]!;
    throw new UsageError(
      `run ${runId} archived ${missing.length === 1 ? 'a column' : 'columns'} ${table.name} no longer has: ${missing.join(', ')}; nothing was changed. ` +
        `Map each to the column that holds it now (--map ${first}=<column>) or restore without its values (--drop-column ${first})`,
    );
  }
  return {
    renames: choices.renames.filter(({ from, to }) => from !== to),
    dropped: [...dropped],
    added: table.insertable.filter((column) => !targets.has(column.name)).map((column) => column.name),
    columns: table.insertable.filter((column) => targets.has(column.name)),
  };
}
