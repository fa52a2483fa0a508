import type { ConninfoSettings } from './libpq-keywords.js';
import { parseKeywordString } from './parse-keyword-string.js';
import { parseUri, uriPrefixLength } from './parse-uri.js';

/**
 * libpq's PQconninfoParse: a `postgres://` or `postgresql://` URI, else a
 * keyword/value string. Only what the string sets; no defaults applied.
 *
 * @example parseConninfo('postgresql://host:12345/db') // Map { dbname → db, host → host, port → 12345 }
 */
export function parseConninfo(text: string): ConninfoSettings {
  return uriPrefixLength(text) > 0 ? parseUri(text) : parseKeywordString(text);
}
