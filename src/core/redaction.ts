import { createHmac, randomBytes } from 'node:crypto';
import type { LeadTable } from '../keys/key-definition.js';

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
  return (value) => (typeof value === 'string' ? `${maskText(value)} #${keyedTag(key, value, TAG_HEX)}` : value);
}

/**
 * The redaction of one exported file (scan --details, clean --plan-csv): the
 * same masks and tags as the report, under one key for the whole file.
 * `value` masks any value but NULL, numbers included (a phone kept in a
 * bigint column is still a phone); `derived` replaces a value computed from
 * customer values (a group id is the md5 of its key: phones are few enough
 * to enumerate) with its keyed tag alone, equal ids keeping equal tags.
 */
export interface FileRedactor {
  value(value: unknown): string | null;
  derived(value: string): string;
}

export function createFileRedactor(key: Buffer = randomBytes(32)): FileRedactor {
  const text = createRedactor(key);
  return {
    value: (value) => (value === null || value === undefined || value === '' ? null : (text(String(value)) as string)),
    derived: (value) => `#${keyedTag(key, value, 2 * TAG_HEX)}`,
  };
}

function keyedTag(key: Buffer, value: string, hexDigits: number): string {
  return createHmac('sha256', key).update(value).digest('hex').slice(0, hexDigits);
}

/** Column types that hold no customer value: shown as they are in a redacted export (with the id and created columns). */
const NOT_CUSTOMER_TYPES = /^(boolean|date|time|timestamp|interval)\b/;

/** The table's columns whose values a redacted export masks: all but the id column, the created column and times, dates and booleans. */
export function customerColumns(table: LeadTable): Set<string> {
  return new Set(
    table.info.columns
      .filter((column) => column.name !== table.idColumn && column.name !== table.createdColumn && !NOT_CUSTOMER_TYPES.test(column.type))
      .map((column) => column.name),
  );
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
