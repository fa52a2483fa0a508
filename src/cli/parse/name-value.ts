import { UsageError } from '../../errors.js';

/**
 * The one parser of `name=value` flags (--map, --normalize, --merge-rule):
 * both sides trimmed and non-empty, split at the first `=`. The caller
 * checks what the value may be.
 *
 * @example parseNameValue('phone=e164', '--normalize', '<column>=<rule>, e.g. phone=e164') // ['phone', 'e164']
 */
export function parseNameValue(text: string, flag: string, form: string): [name: string, value: string] {
  const at = text.indexOf('=');
  const name = at > 0 ? text.slice(0, at).trim() : '';
  const value = at > 0 ? text.slice(at + 1).trim() : '';
  if (name === '' || value === '') throw new UsageError(`${flag} takes ${form}; got "${text}"`);
  return [name, value];
}
