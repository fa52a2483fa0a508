import { describe, expect, it } from 'vitest';
import { nullableNumber, rowNumber } from '../../src/db/row-numbers.js';
import { UnexpectedRowError } from '../../src/errors.js';

describe('numbers read from result rows', () => {
  it('reads int8 as pg returns it (text) and as PGlite returns it (number, bigint)', () => {
    expect(rowNumber('9007199254740991', 'n')).toBe(9_007_199_254_740_991);
    expect(rowNumber(42, 'n')).toBe(42);
    expect(rowNumber(7n, 'n')).toBe(7);
    expect(rowNumber('0', 'n')).toBe(0);
  });

  it('refuses a NULL or a missing value where a number must be, naming the column, instead of reading 0', () => {
    for (const missing of [null, undefined]) {
      const error = catchError(() => rowNumber(missing, 'rows_removed'));
      expect(error).toBeInstanceOf(UnexpectedRowError);
      expect((error as UnexpectedRowError).fields).toEqual({ column: 'rows_removed' });
    }
  });

  it('refuses what is not a number at all', () => {
    const error = catchError(() => rowNumber('twelve', 'groups'));
    expect((error as UnexpectedRowError).fields).toEqual({ column: 'groups' });
    expect(() => nullableNumber({}, 'groups')).toThrow(UnexpectedRowError);
  });

  it('keeps a NULL that means "none" as null', () => {
    expect(nullableNumber(null, 'oldest_ms')).toBeNull();
    expect(nullableNumber(undefined, 'oldest_ms')).toBeNull();
    expect(nullableNumber('12', 'oldest_ms')).toBe(12);
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
