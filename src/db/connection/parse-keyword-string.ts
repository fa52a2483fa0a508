import { ConninfoError } from './conninfo-error.js';
import type { ConninfoSettings } from './libpq-keywords.js';
import { storeSetting } from './store-setting.js';

/** C's isspace in the C locale: space, tab, newline, vertical tab, form feed, carriage return. */
const isSpace = (char: string | undefined) => char !== undefined && ' \t\n\v\f\r'.includes(char);

/**
 * libpq's conninfo_parse: `keyword = value` pairs separated by whitespace;
 * a value is single-quoted or runs to the next whitespace, and a backslash
 * takes the next character literally in both forms.
 *
 * @example parseKeywordString("host=db1 dbname='my crm'") // Map { host → db1, dbname → my crm }
 */
export function parseKeywordString(text: string): ConninfoSettings {
  const settings: ConninfoSettings = new Map();
  let at = 0;
  while (at < text.length) {
    if (isSpace(text[at])) {
      at++;
      continue;
    }
    const nameStart = at;
    while (at < text.length && text[at] !== '=' && !isSpace(text[at])) at++;
    const name = text.slice(nameStart, at);
    while (isSpace(text[at])) at++;
    if (text[at] !== '=') throw new ConninfoError(`missing "=" after "${name}" in connection info string`);
    at++;
    while (isSpace(text[at])) at++;
    let value = '';
    if (text[at] === "'") {
      at++;
      for (;;) {
        if (at >= text.length) throw new ConninfoError('unterminated quoted string in connection info string');
        if (text[at] === '\\') {
          at++;
          if (at < text.length) value += text[at++];
          continue;
        }
        if (text[at] === "'") {
          at++;
          break;
        }
        value += text[at++];
      }
    } else {
      while (at < text.length && !isSpace(text[at])) {
        if (text[at] === '\\') at++;
        if (at < text.length) value += text[at++];
      }
    }
    storeSetting(settings, name, value, 'refuse');
  }
  return settings;
}
