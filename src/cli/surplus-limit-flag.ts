import { UsageError } from '../errors.js';
import { parseWholeNumber, WHOLE_RANGES } from './parse/whole-number.js';

/** scan's two ways of asking for exit 3, as commander hands them over. */
export interface SurplusLimitFlags {
  maxSurplus?: string;
  failOnDuplicates?: boolean;
}

/**
 * The surplus a key may have before scan exits 3, or null for no limit.
 * `--fail-on-duplicates` is `--max-surplus 0`; both at once (on the command
 * line or from the config file) is a usage error rather than a silent choice.
 */
export function surplusLimitFlag(flags: SurplusLimitFlags, source: (flag: string) => string = (flag) => flag): number | null {
  if (flags.failOnDuplicates && flags.maxSurplus !== undefined) {
    throw new UsageError(
      `${source('--fail-on-duplicates')} and ${source('--max-surplus')} both set the limit (--fail-on-duplicates is --max-surplus 0); give one of them`,
    );
  }
  if (flags.failOnDuplicates) return 0;
  return flags.maxSurplus === undefined ? null : parseWholeNumber(flags.maxSurplus, source('--max-surplus'), WHOLE_RANGES.maxSurplus);
}
