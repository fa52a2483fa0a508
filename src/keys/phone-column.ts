import type { ResolvedKey, ResolvedKeyColumn } from './key-definition.js';

/**
 * The key's phone, for diagnose's question about phones on several devices: the column normalised as a
 * phone number (e164) first, else the one named phone (its logical name, or the column `--map phone=…`
 * points at); null when the key has none. A key on `mobile` normalised with e164 has a phone.
 */
export function phoneColumn(key: ResolvedKey, columnMap: Readonly<Record<string, string>>): ResolvedKeyColumn | null {
  const mapped = columnMap.phone ?? 'phone';
  return key.columns.find((c) => c.normalize === 'e164') ?? key.columns.find((c) => c.logical === 'phone' || c.column === mapped) ?? null;
}
