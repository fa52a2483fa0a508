import { describe, expect, it } from 'vitest';
import { chooseArbiter, covers } from '../../src/core/constraint/upsert-arbiter.js';
import type { UniqueIndexInfo } from '../../src/db/unique-indexes.js';

const index = (name: string, elements: string[], extra: Partial<UniqueIndexInfo> = {}): UniqueIndexInfo => ({
  name,
  kind: 'unique constraint',
  constraint: name,
  elements,
  valid: true,
  nullsNotDistinct: false,
  predicate: null,
  immediate: true,
  definition: '',
  ...extra,
});
const pkey = index('leads_pkey', ['id'], { kind: 'primary key' });
const wide = index('k4', ['device_id', 'user_id', 'phone', 'niche']);
const narrow = index('k2', ['device_id', 'phone']);
const email = index('email_key', ['email']);

describe('covers: every row the other index rejects, the arbiter rejects too', () => {
  it('a subset of its elements covers; a superset, another column or a partial arbiter does not', () => {
    expect(covers(narrow, wide)).toBe(true);
    expect(covers(wide, narrow)).toBe(false);
    expect(covers(narrow, email)).toBe(false);
    expect(covers({ ...narrow, predicate: 'NOT archived' }, wide)).toBe(false);
    expect(covers({ ...narrow, predicate: 'NOT archived' }, { ...wide, predicate: 'NOT archived' })).toBe(true);
  });

  it('NULLs: a NULLS NOT DISTINCT index is covered only by a NULLS NOT DISTINCT arbiter; a DEFERRABLE one never', () => {
    expect(covers(narrow, { ...wide, nullsNotDistinct: true })).toBe(false);
    expect(covers({ ...narrow, nullsNotDistinct: true }, { ...wide, nullsNotDistinct: true })).toBe(true);
    expect(covers(narrow, { ...wide, immediate: false })).toBe(false);
  });
});

describe('chooseArbiter', () => {
  const serverFilled = ['id', '"id"'];
  const match = (protecting: UniqueIndexInfo[], impliedBy: UniqueIndexInfo[], elements: string[]) => ({
    elements,
    forms: [elements],
    protecting,
    impliedBy,
    functions: [],
  });

  it('key device-phone beside device-user-phone-niche: its own index for every policy, the wider one covered (23505 only in a race), the primary key ignored (id is the sequence)', () => {
    for (const policy of ['skip', 'update'] as const) {
      expect(chooseArbiter({ match: match([narrow], [], narrow.elements), indexes: [pkey, wide, narrow], nullsEqual: false, policy, serverFilled })).toEqual({
        arbiter: narrow,
        relation: 'key',
        covered: [wide],
        uncovered: [],
      });
    }
  });

  it('key device-user-phone-niche beside device-phone: skip moves to the narrower index (the wider one covered); an update policy stays and sees it uncovered', () => {
    const input = { match: match([wide], [narrow], wide.elements), indexes: [pkey, wide, narrow], nullsEqual: false, serverFilled };
    expect(chooseArbiter({ ...input, policy: 'skip' })).toEqual({ arbiter: narrow, relation: 'narrower', covered: [wide], uncovered: [] });
    expect(chooseArbiter({ ...input, policy: 'update' })).toEqual({ arbiter: wide, relation: 'key', covered: [], uncovered: [narrow] });
  });

  it('a partial unique index on exactly the key is an arbiter; an unrelated unique column stays uncovered for every policy', () => {
    const live = index('live', ['device_id', 'phone'], { predicate: '(NOT archived)', kind: 'unique index', constraint: null });
    const input = { match: match([], [], ['device_id', 'phone']), indexes: [pkey, live, email], nullsEqual: false, serverFilled };
    expect(chooseArbiter({ ...input, policy: 'skip' })).toEqual({ arbiter: live, relation: 'partial', covered: [], uncovered: [email] });
  });

  it('no unique index on the key or a subset of it: null; Citus (device_id, id) primary key never rejects an insert', () => {
    expect(chooseArbiter({ match: match([], [], ['device_id', 'phone']), indexes: [pkey], nullsEqual: false, policy: 'skip', serverFilled })).toBeNull();
    const citusPkey = index('leads_pkey', ['device_id', 'id'], { kind: 'primary key' });
    expect(
      chooseArbiter({ match: match([narrow], [], narrow.elements), indexes: [citusPkey, narrow], nullsEqual: false, policy: 'skip', serverFilled })?.uncovered,
    ).toEqual([]);
  });
});
