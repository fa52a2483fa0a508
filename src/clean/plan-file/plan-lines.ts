import { z } from 'zod';
import { UsageError } from '../../errors.js';
import { NORMALIZE_RULES } from '../../keys/key-definition.js';
import { CLEAN_MODES, KEEP_POLICIES, MERGE_RULES } from '../model.js';
import { PLAN_FORMAT, PLAN_FORMAT_VERSION, REVIEW_STATUSES, type PlanBodyLine, type PlanHeader } from './plan-format.js';

/**
 * The shape of each line of a plan (zod schemas), checked as the file is
 * read: the first problem is refused with its line number and JSON path.
 */

/** An id as the plan writes it (text); a bare integer a person typed is taken as its text. */
const id = z.union([z.string().min(1), z.number().int().transform(String)]);
const md5 = z.string().regex(/^[0-9a-f]{32}$/, 'must be an md5 (32 hex digits)');
const count = z.number().int().min(0);
const sha256 = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex digits>');

const headerSchema = z.object({
  type: z.literal('header'),
  format: z.literal(PLAN_FORMAT),
  formatVersion: z.literal(PLAN_FORMAT_VERSION),
  toolVersion: z.string(),
  createdAt: z.iso.datetime(),
  database: z.object({ systemIdentifier: z.string().nullable(), name: z.string(), serverVersion: z.string() }),
  table: z.object({ schema: z.string().min(1), name: z.string().min(1), idColumn: z.string().min(1), createdColumn: z.string().nullable() }),
  key: z.object({
    name: z.string().min(1),
    columns: z.array(z.string().min(1)).min(1),
    normalize: z.record(z.string(), z.enum(NORMALIZE_RULES)),
    nullsEqual: z.boolean(),
    defaultCountry: z.string().nullable(),
  }),
  keep: z.enum(KEEP_POLICIES),
  keeperOrder: z.string(),
  mode: z.enum(CLEAN_MODES),
  mergeRules: z.record(z.string(), z.enum(MERGE_RULES)),
  mergeColumns: z.array(z.string()),
  batchSize: count.min(1),
  batchRows: count.min(1),
  totals: z.object({ groups: count, rowsToRemove: count, skippedGroups: count, childRows: z.record(z.string(), count) }),
  digest: sha256,
  reviewed: z.object({ digest: sha256, at: z.iso.datetime() }).optional(),
});

const groupSchema = z
  .object({
    type: z.literal('group'),
    group: md5,
    key: z.record(z.string(), z.unknown()),
    keep: id,
    remove: z.array(id).min(1, 'must list at least one id (to keep the whole group, delete its line)'),
    fingerprints: z.record(z.string(), md5),
    merge: z.record(z.string(), id).optional(),
    children: z.record(z.string(), count).optional(),
    review: z.enum(REVIEW_STATUSES).optional(),
  })
  .superRefine((group, context) => {
    const seen = new Set<string>([group.keep]);
    group.remove.forEach((removed, index) => {
      if (seen.has(removed)) {
        const also = removed === group.keep ? 'also the keeper' : 'listed twice';
        context.addIssue({ code: 'custom', path: ['remove', index], message: `id ${removed} is ${also}: every id is kept or removed, once` });
      }
      seen.add(removed);
    });
    for (const listed of seen) {
      if (group.fingerprints[listed] === undefined) {
        const where = listed === group.keep ? ['keep'] : ['remove', group.remove.indexOf(listed)];
        context.addIssue({ code: 'custom', path: where, message: `id ${listed} is not a row of this group (it has no fingerprint here)` });
      }
    }
    for (const fingerprinted of Object.keys(group.fingerprints)) {
      if (!seen.has(fingerprinted)) {
        context.addIssue({ code: 'custom', path: ['fingerprints', fingerprinted], message: `id ${fingerprinted} is neither kept nor removed` });
      }
    }
  });

const bodySchema = z.discriminatedUnion('type', [
  groupSchema,
  z.object({ type: z.literal('skipped'), group: md5, reason: z.string() }),
  z.object({ type: z.literal('children'), table: z.string(), column: z.string(), constraint: z.string(), rows: count }),
  z.object({ type: z.literal('end'), lines: count }),
]);

/** Line 1. */
export function parseHeaderLine(text: string, file: string): PlanHeader {
  const value = parseJson(text, file, 1);
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type !== 'header') {
    throw new UsageError(`plan ${file} line 1: not a plan header (a plan starts with {"type":"header",…}, as clean --plan-out writes it)`);
  }
  return checked(headerSchema, value, file, 1) as PlanHeader;
}

/** Any later line. */
export function parseBodyLine(text: string, file: string, line: number): PlanBodyLine {
  return checked(bodySchema, parseJson(text, file, line), file, line) as PlanBodyLine;
}

function parseJson(text: string, file: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`plan ${file} line ${line}: not valid JSON (${(error as Error).message}); nothing was changed`);
  }
}

function checked<T>(schema: z.ZodType<T>, value: unknown, file: string, line: number): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new UsageError(`plan ${file} line ${line}: ${jsonPath(issue.path)}: ${issue.message}; nothing was changed`);
}

/** $.remove[2], $.key.columns… */
function jsonPath(path: readonly PropertyKey[]): string {
  return `$${path.map((part) => (typeof part === 'number' ? `[${part}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(part)) ? `.${String(part)}` : `[${JSON.stringify(String(part))}]`)).join('')}`;
}
