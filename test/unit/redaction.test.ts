import { describe, expect, it } from 'vitest';
import { createRedactor, maskText } from '../../src/core/redaction.js';

describe('redaction', () => {
  it('masks digits but the last two, an e-mail local part but its first character, other text but its first character', () => {
    expect(maskText('+60 12-345 6787')).toBe('+•• ••-••• ••87');
    expect(maskText('ana.lee+promo@example.com')).toBe('a•••@example.com');
    expect(maskText('Siti Aminah')).toBe('S•••');
    expect(maskText('x')).toBe('•');
    expect(maskText('')).toBe('•');
  });

  it('tags equal values equally within one redactor, and differently with another key', () => {
    const redact = createRedactor(Buffer.alloc(32, 1));
    expect(redact('60107368787')).toBe(redact('60107368787'));
    expect(redact('60107368787')).not.toBe(redact('60107368788'));
    expect(redact('60107368787')).toMatch(/^•{9}87 #[0-9a-f]{6}$/);
    expect(createRedactor(Buffer.alloc(32, 2))('60107368787')).not.toBe(redact('60107368787'));
  });

  it('leaves numbers, NULLs and booleans alone (ids and device numbers identify no customer)', () => {
    const redact = createRedactor();
    expect([redact(982), redact(null), redact(true), redact(12n)]).toEqual([982, null, true, 12n]);
  });
});
