import { DuplicatesFoundError } from '../../errors.js';

/** The pre-flight found duplicates (or one was written during the build): carries the figures for callers and tests. */
export class DuplicatesBlockConstraintError extends DuplicatesFoundError {
  constructor(
    message: string,
    readonly groups: number,
    readonly surplus: number,
    readonly cleanCommand: string,
  ) {
    super(message, [cleanCommand]);
  }
}
