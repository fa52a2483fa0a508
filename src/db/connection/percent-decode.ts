import { ConninfoError } from './conninfo-error.js';

const HEX = /^[0-9a-fA-F]$/;

/**
 * libpq's conninfo_uri_decode: %XX becomes the byte XX; a bad or short
 * token and %00 are refused, naming the whole value. Bytes are decoded as
 * UTF-8, as libpq passes them on to the server untouched.
 *
 * @example percentDecode('%2Fvar%2Frun') // '/var/run'
 */
export function percentDecode(value: string): string {
  const bytes: number[] = [];
  const text = Buffer.from(value, 'utf8');
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== 0x25) {
      bytes.push(text[i]!);
      continue;
    }
    const hi = String.fromCharCode(text[i + 1] ?? 0);
    const lo = String.fromCharCode(text[i + 2] ?? 0);
    if (!HEX.test(hi) || !HEX.test(lo)) throw new ConninfoError(`invalid percent-encoded token: "${value}"`);
    const byte = Number.parseInt(hi + lo, 16);
    if (byte === 0) throw new ConninfoError(`forbidden value %00 in percent-encoded value: "${value}"`);
    bytes.push(byte);
    i += 2;
  }
  return Buffer.from(bytes).toString('utf8');
}
