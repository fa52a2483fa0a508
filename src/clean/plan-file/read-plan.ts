import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { UsageError } from '../../errors.js';
import type { PlanChildrenLine, PlanGroupLine, PlanHeader, PlanSkippedLine } from './plan-format.js';

export interface NumberedLine {
  line: number;
  entry: PlanGroupLine | PlanSkippedLine | PlanChildrenLine;
}

/** A plan file with its header read; the rest is read once, as a stream, through lines(). */
export interface OpenedPlan {
  path: string;
  header: PlanHeader;
  /** The lines after the header, each checked; throws (exit 2) at the first bad one or at a missing end line. */
  lines(): AsyncGenerator<NumberedLine>;
  /** Once lines() is done: the sha256 of the lines after the header as read ("sha256:<hex>"). */
  digest(): string;
  close(): void;
}

/**
 * Opens a plan and reads its header (line 1). The rest is read as a stream,
 * so memory stays flat whatever its size, and hashed as it is read: a digest
 * that differs from the header's means the plan was edited by hand.
 */
export async function openPlan(path: string): Promise<OpenedPlan> {
  // zod and the plan's schemas are a third of the bundle: loaded only by the commands that read a plan (scan's start-up is shorter).
  const { parseBodyLine, parseHeaderLine } = await import('./plan-lines.js');
  const input = createReadStream(path);
  try {
    await once(input, 'open');
  } catch (error) {
    throw new UsageError(`cannot read plan ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const iterator = reader[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await iterator.next();
  } catch (error) {
    reader.close();
    throw new UsageError(`cannot read plan ${path}: ${(error as Error).message}`);
  }
  if (first.done || first.value.trim() === '') {
    reader.close();
    throw new UsageError(`plan ${path} line 1: empty; a plan starts with its header line (clean --plan-out writes it)`);
  }
  const header = parseHeaderLine(first.value, path);
  const hash = createHash('sha256');
  let digest: string | null = null;
  return {
    path,
    header,
    async *lines() {
      let line = 1;
      let ended = false;
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        line++;
        hash.update(`${next.value}\n`);
        if (next.value.trim() === '') continue;
        if (ended) throw new UsageError(`plan ${path} line ${line}: follows the end line; nothing was changed`);
        const entry = parseBodyLine(next.value, path, line);
        if (entry.type === 'end') ended = true;
        else yield { line, entry };
      }
      if (!ended) {
        throw new UsageError(`plan ${path} ends at line ${line} without its end line: the file is truncated or incomplete; nothing was changed`);
      }
      digest = `sha256:${hash.digest('hex')}`;
    },
    digest() {
      if (digest === null) throw new Error('the plan was not read to its end');
      return digest;
    },
    close() {
      reader.close();
      input.destroy();
    },
  };
}
