import { readFile } from 'node:fs/promises';
import { Argument, Option } from '@commander-js/extra-typings';
import { writeFileAtomically } from '../cli/atomic-file.js';
import { defineCommand } from '../cli/command-spec.js';
import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { collect, quietOption } from '../cli/options.js';
import { commaList } from '../cli/parse/comma-list.js';
import { note } from '../cli/output.js';
import { reviewPlan } from '../suspects/review-plan.js';
import { ExitCode, UsageError } from '../errors.js';

const REVIEW_OPTIONS = [
  new Option('--accept <ids>', 'accept the groups holding these row ids (comma-separated; the report names a group by its smallest id; repeatable)').argParser(
    collect,
  ),
  new Option('--reject <ids>', 'reject the groups holding these row ids (comma-separated; repeatable)').argParser(collect),
  new Option('--accept-all', 'accept every group still "needs review" (one named by --reject is rejected)'),
  new Option('--reject-all', 'reject every group still "needs review" (one named by --accept is accepted)'),
  quietOption(),
] as const;

export const reviewCommand = defineCommand({
  name: 'review',
  description: 'accept or reject groups of a suspects plan (--plan-out) before clean --plan applies the accepted ones (changes only the file)',
  arguments: [new Argument('<plan>', 'the plan file suspects --plan-out wrote')],
  options: REVIEW_OPTIONS,
  examples: [
    'lead-dedupe review suspects.jsonl --accept 35,1207 --reject 88',
    'lead-dedupe review suspects.jsonl --accept-all --reject 88',
    'lead-dedupe clean --plan suspects.jsonl --execute   # applies the accepted groups only',
  ],
  exitCodes: {
    [ExitCode.ok]: COMMON_EXIT_CODES[ExitCode.ok],
    [ExitCode.runtime]: 'the plan file could not be written (the message names it); the file is as it was',
    [ExitCode.usage]: 'an id in no group waiting for review, a group both accepted and rejected, or no readable plan; nothing was changed',
  },
  run: async (flags, [path]) => {
    const ids = (values: string[] | undefined) => (values ?? []).flatMap(commaList);
    const accept = flags.acceptAll ? 'all' : ids(flags.accept);
    const reject = flags.rejectAll ? 'all' : ids(flags.reject);
    if (accept.length === 0 && reject.length === 0) throw new UsageError('review needs --accept <ids>, --reject <ids>, --accept-all or --reject-all');
    const text = await readFile(path!, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read the plan ${path}: ${error.code ?? error.message}`);
    });
    const reviewed = reviewPlan(text, { accept, reject }, path!, new Date().toISOString());
    await writeFileAtomically(path!, reviewed.text, 'review');
    if (reviewed.editedBefore) {
      note(
        `review: ${path} was edited by hand before this review (its lines match neither its digest nor an earlier review's); clean will report it as edited`,
        flags,
      );
    }
    note(
      `review: ${reviewed.accepted} accepted, ${reviewed.rejected} rejected, ${reviewed.needsReview} still need review, written to ${path}; clean --plan ${path} --execute applies the accepted ones`,
      flags,
    );
    return ExitCode.ok;
  },
});
