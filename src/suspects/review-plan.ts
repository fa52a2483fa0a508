import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { PlanGroupLine, ReviewStatus } from '../clean/plan-file/plan-format.js';

/**
 * A reviewer's decisions on a plan's groups: a group is named by any of its
 * row ids (suspects names a group by its smallest id, so the number the
 * report shows works). `all` decides every group still "needs review".
 */
export interface ReviewDecisions {
  accept: readonly string[] | 'all';
  reject: readonly string[] | 'all';
}

export interface ReviewedPlan {
  /** The plan with the statuses set; every other byte as it was (a group line laid out by hand is written anew). */
  text: string;
  accepted: number;
  rejected: number;
  needsReview: number;
  /** The lines matched neither the header's digest nor an earlier review's: edited by hand, and clean will say so. */
  editedBefore: boolean;
}

/**
 * Sets the review status of the chosen groups in a plan's text (JSON Lines).
 * Checked before anything changes: every id named belongs to a group that
 * carries a review status, no id is both accepted and rejected, and "all"
 * is not given for both. The header keeps its digest (the plan's id) and
 * records the digest of the reviewed lines (`reviewed`), so clean tells a
 * reviewed plan from one edited by hand. `now`: the review's time (ISO).
 */
export function reviewPlan(text: string, decisions: ReviewDecisions, path: string, now: string): ReviewedPlan {
  if (decisions.accept === 'all' && decisions.reject === 'all') throw new UsageError('--accept-all and --reject-all together decide nothing; give one');
  const lines = text.split('\n');
  const body = lines.slice(1).join('\n');
  const groupOf = new Map<string, number>();
  const groups = new Map<number, PlanGroupLine>();
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const group = parseLine(line, index, path);
    if (group.type !== 'group' || !('review' in group) || group.review === undefined) return;
    groups.set(index, group);
    for (const id of [group.keep, ...group.remove]) groupOf.set(id, index);
  });
  if (groups.size === 0) throw new UsageError(`${path} has no group waiting for review (suspects --plan-out writes such plans); nothing was changed`);
  const chosen = (ids: readonly string[] | 'all', status: ReviewStatus): Map<number, ReviewStatus> => {
    if (ids === 'all') return new Map([...groups].filter(([, group]) => group.review === 'needs review').map(([index]) => [index, status]));
    return new Map(
      ids.map((id) => {
        const index = groupOf.get(id);
        if (index === undefined) throw new UsageError(`row ${id} is in no group of ${path} that waits for review; nothing was changed`);
        return [index, status];
      }),
    );
  };
  const accepted = chosen(decisions.accept, 'accepted');
  const rejected = chosen(decisions.reject, 'rejected');
  for (const index of accepted.keys()) {
    if (rejected.has(index) && decisions.accept !== 'all' && decisions.reject !== 'all') {
      throw new UsageError(`group of row ${groups.get(index)!.keep} is both accepted and rejected; nothing was changed`);
    }
  }
  // an explicit decision wins over "all"
  const decided = decisions.accept === 'all' ? new Map([...accepted, ...rejected]) : new Map([...rejected, ...accepted]);
  for (const [index, status] of decided) {
    const group = groups.get(index)!;
    const before = `"review":${JSON.stringify(group.review)}`;
    // the status alone replaced, the rest of the line byte for byte; a line laid out by hand is written anew
    lines[index] = lines[index]!.includes(before)
      ? lines[index]!.replace(before, `"review":${JSON.stringify(status)}`)
      : JSON.stringify({ ...group, review: status });
    group.review = status;
  }
  const header = reviewedHeader(lines[0]!, { before: body, after: lines.slice(1).join('\n') }, now, path);
  lines[0] = header.line;
  const count = (status: ReviewStatus) => [...groups.values()].filter((group) => group.review === status).length;
  return {
    text: lines.join('\n'),
    accepted: count('accepted'),
    rejected: count('rejected'),
    needsReview: count('needs review'),
    editedBefore: header.editedBefore,
  };
}

/**
 * The header line with `reviewed` set to the digest of the reviewed lines, when the lines before the review were
 * the plan as written or as an earlier review left them; a plan edited by hand keeps its header, so clean still
 * reports it as edited.
 */
function reviewedHeader(headerLine: string, body: { before: string; after: string }, at: string, path: string): { line: string; editedBefore: boolean } {
  const header = parseLine(headerLine, 0, path) as { type: string; digest?: unknown; reviewed?: { digest?: unknown } };
  if (header.type !== 'header') throw new UsageError(`${path} line 1 is not a plan header (suspects --plan-out writes one); nothing was changed`);
  const before = bodyDigest(body.before);
  if (before !== header.digest && before !== header.reviewed?.digest) return { line: headerLine, editedBefore: true };
  return { line: JSON.stringify({ ...header, reviewed: { digest: bodyDigest(body.after), at } }), editedBefore: false };
}

/**
 * sha256 of a plan's lines after its header as openPlan hashes them: each line as readline splits them (at \n,
 * \r\n or \r) followed by \n; a final line break ends the last line rather than starting an empty one.
 */
function bodyDigest(body: string): string {
  const lines = body.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return `sha256:${hash.digest('hex')}`;
}

function parseLine(line: string, index: number, path: string): PlanGroupLine | { type: string } {
  try {
    return JSON.parse(line) as PlanGroupLine | { type: string };
  } catch {
    throw new UsageError(`${path} line ${index + 1} is not JSON: not a plan file (suspects --plan-out writes one); nothing was changed`);
  }
}
