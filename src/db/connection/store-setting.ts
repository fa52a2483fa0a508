import { ConninfoError } from './conninfo-error.js';
import { libpqKeyword, type ConninfoSettings } from './libpq-keywords.js';

/**
 * libpq's conninfo_storeval: the legacy requiressl becomes sslmode, an
 * unknown keyword is refused, a later setting replaces an earlier one.
 * Returns false (nothing stored) for an unknown keyword when the caller
 * words the refusal itself (a URI query parameter).
 */
export function storeSetting(settings: ConninfoSettings, keyword: string, value: string, unknown: 'refuse' | 'report'): boolean {
  if (keyword === 'requiressl') return storeSetting(settings, 'sslmode', value.startsWith('1') ? 'require' : 'prefer', unknown);
  if (libpqKeyword(keyword) === undefined) {
    if (unknown === 'report') return false;
    throw new ConninfoError(`invalid connection option "${keyword}"`);
  }
  settings.set(keyword, value);
  return true;
}
