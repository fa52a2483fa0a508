import { describe, expect, it } from 'vitest';
import { UNICODE_DIGITS } from '../../src/keys/unicode-digits.js';
import { unicodeDigitValue } from '../support/unicode-digit.js';

describe('the Unicode digit map of digits and e164', () => {
  it('maps every character to its decimal value, position by position', () => {
    const from = [...UNICODE_DIGITS.from];
    expect(from.length).toBe(UNICODE_DIGITS.to.length);
    from.forEach((char, index) => {
      expect(unicodeDigitValue(char), `U+${char.codePointAt(0)!.toString(16)}`).toBe(Number(UNICODE_DIGITS.to[index]));
    });
    expect(from.some((char) => /[0-9]/.test(char))).toBe(false);
  });

  it('covers the digit sets phones arrive in', () => {
    const required = { 'Arabic-Indic': 0x660, 'Extended Arabic-Indic': 0x6f0, Devanagari: 0x966, Bengali: 0x9e6, Thai: 0xe50, fullwidth: 0xff10 };
    for (const [name, zero] of Object.entries(required)) {
      const digits = Array.from({ length: 10 }, (_, value) => String.fromCodePoint(zero + value)).join('');
      expect(UNICODE_DIGITS.from, name).toContain(digits);
    }
  });
});
