import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameForm } from '../../src/suspects/sql/normal-forms-sql.js';
import type { SuspectFunctions } from '../../src/suspects/model.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * The built-in accent folding (no unaccent) against JavaScript's own Unicode
 * tables: every letter of Latin-1 Supplement, Latin Extended-A/B and Latin
 * Extended Additional, decomposed (NFD), its combining marks dropped; the few
 * letters with a stroke or a ligature (ł, ø, đ, ß, æ, œ) by a table.
 */
const NONE: SuspectFunctions = { pgTrgm: null, fuzzystrmatch: null, unaccent: null };
const UNDECOMPOSED: Record<string, string> = { ł: 'l', Ł: 'l', ø: 'o', Ø: 'o', đ: 'd', Đ: 'd', ß: 's', æ: 'a', Æ: 'a', œ: 'o', Œ: 'o' };

function latinLetters(): string[] {
  const letters: string[] = [];
  for (const [start, end] of [
    [0xc0, 0x24f],
    [0x1e00, 0x1eff],
  ] as const) {
    for (let code = start; code <= end; code++) {
      const char = String.fromCodePoint(code);
      if (/\p{L}/u.test(char)) letters.push(char);
    }
  }
  return letters;
}

/** The oracle: lower case of the letter with its marks dropped (JavaScript's NFD), or its table entry. */
function folded(letter: string): string {
  const base =
    UNDECOMPOSED[letter] ??
    letter
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .normalize('NFC');
  return base.toLowerCase();
}

describe.each(TEST_TARGETS.filter((t) => t.available))('suspects name form on $label', (target) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());

  it('folds every accented Latin letter as Unicode decomposes it, and only drops marks (ASCII, other scripts kept)', async () => {
    const letters = latinLetters();
    const values = [...letters.map((l) => `x${l}y`), '  José   GARCÍA ', 'Łukasz Żółć', 'Ærø', 'Иван Й', '김민준', 'plain ascii'];
    const { rows } = await sql<{ value: string; form: string | null }>`select v as value, ${nameForm(sql.ref('v'), NONE)} as form
      from unnest(${sql.val(values)}::text[]) as v`.execute(test.database.db);
    const forms = new Map(rows.map((r) => [r.value, r.form]));
    // letters that fold to ASCII (lower() beyond ASCII depends on the server's locale: PGlite's is C)
    const toAscii = letters.filter((l) => /^[a-z]+$/.test(folded(l)));
    expect(toAscii.length).toBeGreaterThan(450);
    const wrong = toAscii.filter((l) => forms.get(`x${l}y`) !== `x${folded(l)}y`).map((l) => `${l} → ${forms.get(`x${l}y`)}`);
    expect(wrong).toEqual([]);
    expect(forms.get('  José   GARCÍA ')).toBe('jose garcia');
    expect(forms.get('Łukasz Żółć')).toBe('lukasz zolc');
    expect(forms.get('Ærø')).toBe('aro');
    expect(forms.get('Иван Й')?.toLowerCase()).toBe('иван и');
    expect(forms.get('김민준')).toBe('김민준');
    expect(forms.get('plain ascii')).toBe('plain ascii');
  });
});
