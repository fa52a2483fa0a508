import { DuplicatesFoundError } from '../../errors.js';

/** What blocked the unique index: the table, the key, the index's name and the duplicates as scan counts them. */
export interface DuplicatesBlockingIndex {
  readonly table: string;
  readonly key: string;
  readonly index: string;
  readonly groups: number;
  readonly surplus: number;
}

/** The pre-flight found duplicates (or one was written during the build): carries the figures for callers and tests. */
export class DuplicatesBlockConstraintError extends DuplicatesFoundError {
  constructor(
    message: string,
    readonly fields: DuplicatesBlockingIndex,
    readonly cleanCommand: string,
  ) {
    super(message, [cleanCommand]);
  }
}
