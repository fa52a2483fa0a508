import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Database } from '../db/database.js';
import type { CleanOptions } from '../clean/types.js';
import { requirePlansSupported } from '../clean/plan-file/plan-match.js';
import type { CleanPlanWithChecks } from '../clean/preview.js';
import { exportPlan, type PlanRowValues } from '../clean/plan-file/export-plan.js';
import { planStoredColumns } from '../clean/plan-file/plan-export-sql.js';
import { createFileRedactor, type FileRedactor } from '../core/redaction.js';
import type { PlanBodyLine, PlanGroupLine, PlanHeader } from '../clean/plan-file/plan-format.js';
import { FileWriteError } from '../errors.js';
import { openAtomicFile, type AtomicFile } from './atomic-file.js';
import { openCsvFile, type CsvWriter } from './csv-file.js';

export interface WrittenPlan {
  header: PlanHeader;
  /** The dry run's report, counted from the plan itself. */
  report: CleanPlanWithChecks;
}

/**
 * `clean --plan-out` and `--plan-csv`: the plan streamed from the database
 * into the files. The header, which carries the sha256 of every line after
 * it, is only known at the end: the lines go to a temporary file beside the
 * plan while they are hashed, then header and lines are copied into the
 * plan's own temporary file, renamed into place (cli/atomic-file.ts). The
 * CSV (one line per planned row) is written in the same pass.
 */
export async function writePlanFiles(
  database: Database,
  options: CleanOptions,
  paths: { plan?: string; csv?: string; redact?: boolean },
): Promise<WrittenPlan> {
  requirePlansSupported(options.key.table, paths.plan === undefined ? 'clean --plan-csv' : 'clean --plan-out');
  const body = paths.plan === undefined ? null : await openBody(paths.plan);
  const keyColumns = options.key.columns.map((c) => c.column);
  const columns = { key: keyColumns, stored: planStoredColumns(options.key), redactor: paths.redact ? createFileRedactor() : null };
  let csv: CsvWriter | null = null;
  try {
    csv = paths.csv === undefined ? null : await openCsvFile(paths.csv, '--plan-csv', csvColumns(columns));
    const hash = createHash('sha256');
    // Lines are hashed and written in chunks of about 64 kB, not one by one: the same bytes and digest, with
    // one hash update and one write per chunk instead of per line (43,040 lines at 1M rows).
    let pending: string[] = [];
    let pendingLength = 0;
    const flush = async () => {
      if (body === null || pending.length === 0) return;
      const text = pending.join('');
      pending = [];
      pendingLength = 0;
      hash.update(text);
      if (!body.stream.write(text)) await once(body.stream, 'drain');
    };
    const exported = await exportPlan(
      database,
      options,
      async (line: PlanBodyLine, rows?: PlanRowValues) => {
        if (body !== null) {
          const text = `${JSON.stringify(line)}\n`;
          pending.push(text);
          pendingLength += text.length;
          if (pendingLength >= PLAN_CHUNK_CHARS) await flush();
        }
        if (csv !== null && line.type === 'group') await csv.write(csvRows(line, columns, rows ?? {}));
      },
      { rowValues: csv !== null },
    );
    await flush();
    const header: PlanHeader = { ...exported.header, digest: `sha256:${hash.digest('hex')}` };
    if (body !== null && paths.plan !== undefined) await assemble(body, header, paths.plan);
    if (csv !== null) await csv.close();
    return { header, report: exported.report };
  } catch (error) {
    if (csv !== null) await csv.discard(error);
    throw error;
  } finally {
    if (body !== null) await body.remove();
  }
}

/** About 64 kB of plan lines per hash update and write. */
const PLAN_CHUNK_CHARS = 1 << 16;

interface BodyFile {
  stream: ReturnType<typeof createWriteStream>;
  path: string;
  remove(): Promise<void>;
}

/** The lines after the header, in a temporary file of the plan's folder (removed in every case). */
async function openBody(planPath: string): Promise<BodyFile> {
  const target = resolve(planPath);
  const path = join(dirname(target), `.${basename(target).slice(0, 200)}.${process.pid}.${randomBytes(4).toString('hex')}.lines.tmp`);
  const stream = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new FileWriteError(`cannot write --plan-out ${planPath}: ${(error as Error).message}`);
  }
  return {
    stream,
    path,
    async remove() {
      stream.destroy();
      await rm(path, { force: true });
    },
  };
}

/** Header, then the hashed lines, into the plan's own temporary file, renamed into place. */
async function assemble(body: BodyFile, header: PlanHeader, planPath: string): Promise<void> {
  body.stream.end();
  await once(body.stream, 'finish');
  const file: AtomicFile = await openAtomicFile(planPath, '--plan-out');
  try {
    file.stream.write(`${JSON.stringify(header)}\n`);
    await pipeline(createReadStream(body.path), file.stream, { end: false });
  } catch (error) {
    throw await file.discard(error);
  }
  await file.commit();
}

/** The CSV's columns: the key columns (normalised, for the group) and the columns shown as stored (each row's); with --redact, what masks them. */
interface CsvColumns {
  key: string[];
  stored: string[];
  redactor: FileRedactor | null;
}

/**
 * The group and its normalised key, then per row: its id, keep or remove, its key columns as stored
 * (`stored_<column>`: the spellings the normalised key merged) and its created time
 * (`stored_<created column>`: the keeper is the oldest unless --keep says otherwise), then what a merge moves.
 */
function csvColumns(columns: CsvColumns): string[] {
  return ['group_id', ...columns.key.map((column) => `key_${column}`), 'id', 'action', ...columns.stored.map((column) => `stored_${column}`), 'merged_columns'];
}

/** One CSV line per planned row: the keeper says which columns it takes from which row, a donor which it gives. */
function csvRows(group: PlanGroupLine, columns: CsvColumns, rows: PlanRowValues): Record<string, unknown>[] {
  // --redact: the key columns' values masked (normalised and as stored), the group id (the md5 of the key) a keyed tag; ids and times as they are
  const { redactor } = columns;
  const mask = (column: string, value: unknown) => (redactor !== null && columns.key.includes(column) ? redactor.value(value) : value);
  const keyValues = Object.fromEntries(columns.key.map((column) => [`key_${column}`, mask(column, group.key[column] ?? null)]));
  const merge = Object.entries(group.merge ?? {});
  const stored = (id: string) => Object.fromEntries(columns.stored.map((column, index) => [`stored_${column}`, mask(column, rows[id]?.[index] ?? null)]));
  const groupId = redactor === null ? group.group : redactor.derived(group.group);
  const row = (id: string, action: string, merged: string) => ({ group_id: groupId, ...keyValues, id, action, ...stored(id), merged_columns: merged });
  return [
    row(group.keep, 'keep', merge.map(([column, donor]) => `${column} from ${donor}`).join('; ')),
    ...group.remove.map((id) =>
      row(
        id,
        'remove',
        merge
          .filter(([, donor]) => donor === id)
          .map(([column]) => `gives ${column}`)
          .join('; '),
      ),
    ),
  ];
}
