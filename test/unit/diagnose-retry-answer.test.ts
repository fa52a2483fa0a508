import { SAME_SHELL } from '../../src/keys/key-command-line.js';
import { describe, expect, it } from 'vitest';
import { retryAnswer } from '../../src/core/diagnose/answers.js';
import { fakeKey, fakeTable } from '../support/compile.js';

/** Issue 25: question 3 (what a webhook retry should do) is answered with a retry policy and the sql upsert that prints it. */
const key = { ...fakeKey(fakeTable(['id', 'device_id', 'phone', 'email', 'name']), ['device_id', 'phone']), name: 'device-phone' };
const none = { groups: 10, laterCopiesAddData: [], columnsThatDiffer: [], groupsWithAddedData: 0, groupsThatDiffer: 0 };

describe('retryAnswer', () => {
  it('later copies fill empty columns: fill, with its command', () => {
    const report = {
      ...none,
      laterCopiesAddData: [{ column: 'email', groups: 4, rows: 5 }],
      columnsThatDiffer: [{ column: 'email', groups: 6, rows: 7, rowsDifferingOnlyHere: 1 }],
      groupsWithAddedData: 4,
      groupsThatDiffer: 6,
    };
    expect(retryAnswer(report, key)).toBe(
      'In 4 of 10 groups (40%) a later copy fills a value the first copy lacked (email in 4), and in 6 groups a later copy differs in some column. ' +
        'Retry policy fill keeps that data: a retry sets only the columns the stored lead lacks, and a NULL never erases a value (skip would lose it): ' +
        'lead-dedupe sql upsert --key device-phone --on-duplicate fill',
    );
  });

  it('later copies differ but add nothing: skip, and overwrite for when the newest should win', () => {
    const report = { ...none, columnsThatDiffer: [{ column: 'name', groups: 3, rows: 3, rowsDifferingOnlyHere: 3 }], groupsThatDiffer: 3 };
    expect(retryAnswer(report, key, { ...SAME_SHELL, connection: ['-d', 'postgres://dba@db1/crm'] })).toBe(
      "No later copy fills a value the first copy lacked, but in 3 of 10 groups (30%) a later copy differs (name in 3). Retry policy skip keeps the first copy's values and loses no missing data: " +
        'lead-dedupe sql upsert -d postgres://dba@db1/crm --key device-phone --on-duplicate skip; if the newest values should win, overwrite (a NULL still never erases): ' +
        'lead-dedupe sql upsert -d postgres://dba@db1/crm --key device-phone --on-duplicate overwrite',
    );
  });

  it('identical copies: skip', () => {
    expect(retryAnswer(none, key)).toBe(
      'In all 10 groups the later copies are identical to the first: retry policy skip loses nothing: lead-dedupe sql upsert --key device-phone --on-duplicate skip',
    );
  });
});
