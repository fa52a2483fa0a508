import { createHmac, randomBytes } from 'node:crypto';

/** Masks one value that may identify a customer; non-text values (ids, counts, device numbers) pass through. */
export type Redactor = (value: unknown) => unknown;

const MASK = '•';
const TAG_HEX = 6;

/**
 * A redactor for one file: every text value is masked (digits but the last
 * two, an e-mail's local part but its first character, any other text but its
 * first character) and tagged with a keyed hash, so equal values carry equal
 * tags within the file and a reader can still see which rows share a value.
 * The key is random per redactor: phone numbers are few enough to enumerate,
 * so an unkeyed hash would be reversible; with the key discarded, the tag
 * says nothing about the value and nothing links two files.
 */
export function createRedactor(key: Buffer = randomBytes(32)): Redactor {
  return (value) => {
    if (typeof value !== 'string') return value;
    const tag = createHmac('sha256', key).update(value).digest('hex').slice(0, TAG_HEX);
    return `${maskText(value)} #${tag}`;
  };
}

/** The visible part of a masked value: no more than a reader needs to tell two values apart at a glance. */
export function maskText(value: string): string {
  const digits = value.replace(/\D/g, '').length;
  if (digits >= 4) {
    let seen = 0;
    return value.replace(/\d/g, (digit) => (++seen > digits - 2 ? digit : MASK));
  }
  const at = value.lastIndexOf('@');
  if (at > 0) return `${[...value.slice(0, at)][0]}${MASK.repeat(3)}@${value.slice(at + 1)}`;
  const [first = ''] = [...value];
  return value.length <= 1 ? MASK : `${first}${MASK.repeat(3)}`;
}
