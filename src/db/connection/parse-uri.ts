import { ConninfoError } from './conninfo-error.js';
import type { ConninfoSettings } from './libpq-keywords.js';
import { percentDecode } from './percent-decode.js';
import { storeSetting } from './store-setting.js';

export const URI_PREFIXES = ['postgresql://', 'postgres://'] as const;

export function uriPrefixLength(text: string): number {
  return URI_PREFIXES.find((prefix) => text.startsWith(prefix))?.length ?? 0;
}

/**
 * libpq's conninfo_uri_parse_options:
 * `postgres[ql]://[user[:password]@][host][:port][,host[:port]…][/dbname][?keyword=value&…]`.
 * Empty parts set nothing; `[…]` holds an IPv6 address; every part is
 * percent-decoded; query parameters come last and so win.
 *
 * @example parseUri('postgres://u@[::1]:5433/db?sslmode=require') // user, host ::1, port 5433, dbname, sslmode
 */
export function parseUri(uri: string): ConninfoSettings {
  const settings: ConninfoSettings = new Map();
  const store = (keyword: string, value: string) => storeSetting(settings, keyword, percentDecode(value), 'refuse');
  let at = uriPrefixLength(uri);
  const start = at;

  // User info: only when an @ comes before the first /.
  while (at < uri.length && uri[at] !== '@' && uri[at] !== '/') at++;
  if (uri[at] === '@') {
    const userInfo = uri.slice(start, at);
    const colon = userInfo.indexOf(':');
    const user = colon < 0 ? userInfo : userInfo.slice(0, colon);
    if (user !== '') store('user', user);
    if (colon >= 0 && colon + 1 < userInfo.length) storePassword(settings, userInfo.slice(colon + 1));
    at++;
  } else {
    at = start;
  }

  const hosts: string[] = [];
  const ports: string[] = [];
  let terminator = '';
  for (;;) {
    let host: string;
    if (uri[at] === '[') {
      const open = ++at;
      while (at < uri.length && uri[at] !== ']') at++;
      if (at >= uri.length) throw new ConninfoError(`end of string reached when looking for matching "]" in IPv6 host address in URI: "${uri}"`);
      if (at === open) throw new ConninfoError(`IPv6 host address may not be empty in URI: "${uri}"`);
      host = uri.slice(open, at);
      at++;
      if (at < uri.length && !':/?,'.includes(uri[at]!)) {
        throw new ConninfoError(`unexpected character "${uri[at]}" at position ${at + 1} in URI (expected ":" or "/"): "${uri}"`);
      }
    } else {
      const open = at;
      while (at < uri.length && !':/?,'.includes(uri[at]!)) at++;
      host = uri.slice(open, at);
    }
    hosts.push(host);
    terminator = uri[at] ?? '';
    let port = '';
    if (terminator === ':') {
      const open = ++at;
      while (at < uri.length && !'/?,'.includes(uri[at]!)) at++;
      port = uri.slice(open, at);
      terminator = uri[at] ?? '';
    }
    ports.push(port);
    if (terminator !== ',') break;
    at++;
  }
  // libpq keeps the port list only when one was written (",5433" is a list; "" is none).
  if (hosts.join(',') !== '') store('host', hosts.join(','));
  if (ports.join(',') !== '') store('port', ports.join(','));

  if (terminator !== '' && terminator !== '?') {
    const open = ++at;
    while (at < uri.length && uri[at] !== '?') at++;
    if (at > open) store('dbname', uri.slice(open, at));
    terminator = uri[at] ?? '';
  }
  if (terminator !== '') parseQuery(uri.slice(at + 1), settings);
  return settings;
}

/** As libpq, except that a refusal never quotes the password. */
function storePassword(settings: ConninfoSettings, encoded: string): void {
  let password: string;
  try {
    password = percentDecode(encoded);
  } catch (error) {
    if (error instanceof ConninfoError) throw new ConninfoError(error.message.replace(/: ".*"$/s, ' in the password'));
    throw error;
  }
  storeSetting(settings, 'password', password, 'refuse');
}

/** libpq's conninfo_uri_parse_params: `keyword=value` pairs joined by &; ssl=true is JDBC's sslmode=require. */
function parseQuery(query: string, settings: ConninfoSettings): void {
  const pairs = query.split('&');
  // A trailing & ends the list; an empty pair anywhere else is refused below.
  if (pairs.at(-1) === '') pairs.pop();
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals < 0) throw new ConninfoError(`missing key/value separator "=" in URI query parameter: "${pair}"`);
    const rawKeyword = pair.slice(0, equals);
    const rawValue = pair.slice(equals + 1);
    if (rawValue.includes('=')) throw new ConninfoError(`extra key/value separator "=" in URI query parameter: "${rawKeyword}"`);
    let keyword = percentDecode(rawKeyword);
    let value = percentDecode(rawValue);
    if (keyword === 'ssl' && value === 'true') [keyword, value] = ['sslmode', 'require'];
    if (!storeSetting(settings, keyword, value, 'report')) throw new ConninfoError(`invalid URI query parameter: "${keyword}"`);
  }
}
