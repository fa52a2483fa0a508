import { findService } from './service-file.js';
import { LIBPQ_KEYWORDS, type ConninfoSettings } from './libpq-keywords.js';

/** Where a setting's value came from, as `lead-dedupe connection` shows it. */
export type SettingSource =
  | { kind: 'string'; name: string }
  | { kind: 'service'; file: string; service: string }
  | { kind: 'environment'; variable: string }
  | { kind: 'default' };

export interface ResolvedSetting {
  value: string;
  source: SettingSource;
}

/** Every keyword that has a value after libpq's fill-in, with its source. */
export type ResolvedSettings = Map<string, ResolvedSetting>;

export interface SettingsInput {
  /** What the connection string set (parseConninfo), and how to name that string (`--database`, `DATABASE_URL`, …). */
  given: ConninfoSettings;
  givenBy: string;
  env: NodeJS.ProcessEnv;
  /** The home folder for ~/.pg_service.conf; null: none. */
  home: string | null;
}

/**
 * libpq's conninfo_add_defaults: the string first, then the service file
 * (service= or PGSERVICE) for what the string left out, then each
 * keyword's PG* variable (an empty variable counts as set), then libpq's
 * compiled-in default.
 *
 * @example resolveSettings({ given: new Map([['host', 'h']]), givenBy: '--database', env: { PGPORT: '6000' }, home: null })
 *   // host h (--database), port 6000 (PGPORT), sslmode prefer (default), …
 */
export function resolveSettings({ given, givenBy, env, home }: SettingsInput): ResolvedSettings {
  const resolved: ResolvedSettings = new Map();
  for (const [keyword, value] of given) resolved.set(keyword, { value, source: { kind: 'string', name: givenBy } });
  const service = resolved.get('service')?.value ?? env.PGSERVICE;
  if (service !== undefined) {
    const definition = findService(service, env, home);
    for (const [keyword, value] of definition.settings) {
      if (!resolved.has(keyword)) resolved.set(keyword, { value, source: { kind: 'service', file: definition.file, service } });
    }
  }
  for (const { keyword, envVar, compiled } of LIBPQ_KEYWORDS) {
    if (resolved.has(keyword)) continue;
    const fromEnv = envVar === null ? undefined : env[envVar];
    if (fromEnv !== undefined) resolved.set(keyword, { value: fromEnv, source: { kind: 'environment', variable: envVar! } });
    else if (keyword === 'sslmode' && env.PGREQUIRESSL !== undefined) {
      // libpq still reads the deprecated PGREQUIRESSL: 1 means require.
      resolved.set(keyword, { value: env.PGREQUIRESSL.startsWith('1') ? 'require' : 'prefer', source: { kind: 'environment', variable: 'PGREQUIRESSL' } });
    } else if (compiled !== null) resolved.set(keyword, { value: compiled, source: { kind: 'default' } });
  }
  return resolved;
}
