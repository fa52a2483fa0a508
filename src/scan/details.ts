import { once } from 'node:events';
import { Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { customerColumns, type FileRedactor } from '../core/redaction.js';
import type { Database } from '../db/database.js';
import { forEachBatch } from '../db/cursor.js';
import { independentSessions, type ReadSessions } from '../db/shared-snapshot.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { DETAIL_COLUMNS, detailsCopyStatement, detailsQuery } from './sql/details-sql.js';
import { CsvFieldReader } from './csv-fields.js';
import type { GroupFigures } from './group-figures.js';

export interface DetailsSummary {
  /** Rows written per key name. */
  rowsPerKey: Record<string, number>;
}

/** The export's columns: the details columns, then the table's own. */
export function detailColumns(keys: ResolvedKey[]): string[] {
  return [...DETAIL_COLUMNS, ...(keys[0]?.table.info.columns.map((c) => c.name) ?? [])];
}

/**
 * Writes every row in a duplicate group as CSV (one header, then key after
 * key) into `destination`, which the caller opens and closes. On a server
 * PostgreSQL formats the CSV itself through COPY (as a DBA's
 * \\copy would); on PGlite rows come through a cursor and csv-stringify. Both
 * paths stream, and the query casts every value to text so they agree.
 * With `sessions` sharing a snapshot (db/shared-snapshot.ts) the COPY reads
 * that snapshot, so the export agrees with a scan run in the same sessions.
 * With `figures` (one per key), each key's rows also feed its scan figures
 * as they are written (scan/scan-from-export.ts), before any redaction.
 */
export async function exportDetails(
  database: Database,
  keys: ResolvedKey[],
  destination: Writable,
  sessions: ReadSessions = independentSessions(database),
  redactor: FileRedactor | null = null,
  figures: readonly GroupFigures[] | null = null,
): Promise<DetailsSummary> {
  const rowsPerKey: Record<string, number> = {};
  const redacting = redactor === null || keys[0] === undefined ? null : redactCsv(destination, redactor, customerColumns(keys[0].table));
  const into = redacting?.input ?? destination;
  for (const [index, key] of keys.entries()) {
    const header = index === 0;
    const counted = figures?.[index] ?? null;
    rowsPerKey[key.name] = database.copyOut
      ? await copyKey(
          database.copyOut,
          detailsCopyStatement(key, header).compile(database.db).sql,
          into,
          sessions.snapshotId,
          counted && figuresReader(key, counted, header),
        )
      : await streamThroughCursor(database, key, header, into, counted);
  }
  await redacting?.finish();
  return { rowsPerKey };
}

/**
 * --redact: the export's CSV parsed again on its way to the file (the first
 * record is the header), each customer column's value masked and tagged and
 * the group id (the md5 of the key) replaced by its keyed tag; the rest
 * (key name, sizes, ranks, the id and created columns, times) as it was.
 * The statements stay as they are, so a redacted export counts and orders
 * exactly what the raw one does.
 */
function redactCsv(destination: Writable, redactor: FileRedactor, masked: Set<string>): { input: Writable; finish(): Promise<void> } {
  const parser = parse({ relax_column_count: false });
  const output = stringify();
  let header: string[] | null = null;
  const redact = new Transform({
    objectMode: true,
    transform(record: string[], _encoding, done) {
      if (header === null) {
        header = record;
        done(null, record);
        return;
      }
      const names = header;
      done(
        null,
        record.map((value, index) => {
          const name = names[index]!;
          if (name === 'group_id') return redactor.derived(value);
          return masked.has(name) ? redactor.value(value) : value;
        }),
      );
    },
  });
  // Every byte is in `destination` once `output` has ended (it pipes there, leaving it open for the caller to commit).
  const flushed = Promise.all([pipeline(parser, redact, output), once(output, 'end')]);
  flushed.catch(() => undefined);
  output.pipe(destination, { end: false });
  return {
    input: parser,
    async finish() {
      parser.end();
      await flushed;
    },
  };
}

type CopyOut = NonNullable<Database['copyOut']>;

/** One key's COPY into `destination`; with `reader`, every byte also goes through it on the way. */
async function copyKey(copyOut: CopyOut, statement: string, destination: Writable, snapshotId: string | null, reader: CsvFieldReader | null): Promise<number> {
  if (reader === null) return copyOut(statement, destination, snapshotId);
  const tap = new Writable({
    write(chunk: Buffer, _encoding, done) {
      reader.write(chunk);
      if (destination.write(chunk)) done();
      else destination.once('drain', () => done());
    },
  });
  const failed = (error: Error) => tap.destroy(error);
  destination.once('error', failed);
  try {
    const rows = await copyOut(statement, tap, snapshotId);
    tap.end();
    await finished(tap);
    return rows;
  } finally {
    destination.off('error', failed);
  }
}

/** The CSV's group size, rank and id fields into `figures`. */
function figuresReader(key: ResolvedKey, figures: GroupFigures, header: boolean): CsvFieldReader {
  const size = DETAIL_COLUMNS.indexOf('group_size');
  const rank = DETAIL_COLUMNS.indexOf('rank_in_group');
  const id = detailColumns([key]).indexOf(key.table.idColumn, DETAIL_COLUMNS.length);
  return new CsvFieldReader([size, rank, id], ([n, r, value]) => figures.addRow(Number(n), Number(r), value!), { header });
}

async function streamThroughCursor(
  database: Database,
  key: ResolvedKey,
  header: boolean,
  destination: Writable,
  figures: GroupFigures | null,
): Promise<number> {
  const csv = stringify({ header, columns: detailColumns([key]) });
  csv.pipe(destination, { end: false });
  let rows = 0;
  await forEachBatch(database.db, detailsQuery(key), 5000, async (batch) => {
    rows += batch.length;
    for (const row of batch) {
      figures?.addRow(Number(row.group_size), Number(row.rank_in_group), String(row[key.table.idColumn]));
      if (!csv.write(row)) await once(csv, 'drain');
    }
  });
  csv.end();
  await once(csv, 'end');
  return rows;
}
