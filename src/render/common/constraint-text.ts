import type { KeySummary } from '../../keys/key-summary.js';
import type { UniqueIndexInfo } from '../../db/unique-indexes.js';

/** `device_id, e164(phone)` */
export function keyColumnsText(key: KeySummary): string {
  return key.columns.map((column) => (key.normalize[column] ? `${key.normalize[column]}(${column})` : column)).join(', ');
}

/** `device-phone (device_id, e164(phone); NULLs distinct)` */
export function keyText(key: KeySummary): string {
  return `${key.name} (${keyColumnsText(key)}; NULLs ${key.nullsEqual ? 'equal' : 'distinct'})`;
}

/** `unique constraint "leads_device_id_phone_key"` */
export function indexText(index: UniqueIndexInfo): string {
  return `${index.kind} "${index.constraint ?? index.name}"`;
}

/** Index expressions can run to hundreds of characters (e164); tables show the start, json the whole. */
export function shorten(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
