/**
 * The first statements of every session the tool opens (each pooled pg
 * client, the COPY clients, PGlite's one session). They pin search_path to
 * `pg_catalog, pg_temp`: with `public` (or any schema another role can
 * create in) out of the path, a planted look-alike such as
 * `public.btrim(varchar)` can no longer win over `pg_catalog.btrim(text)`
 * by being the closer match for a varchar or citext column, and every
 * operator resolves to the catalog's own. Every table the tool names is
 * schema-qualified; the temporary tables it makes live in pg_temp.
 *
 * The path the user's session would have had (role, database and PGOPTIONS
 * settings, `$user` expanded, pg_catalog where it implicitly goes) is kept first in a custom setting, so an
 * unqualified `--table leads` is still looked up the way psql would find it
 * (catalog.ts).
 */
export const USER_SEARCH_PATH_SETTING = 'lead_dedupe.user_search_path';

export const PINNED_SEARCH_PATH = 'pg_catalog, pg_temp';

/** Run in this order, each on its own (the first must read the path before the second replaces it). */
export const SESSION_PIN_STATEMENTS = pinStatements(false);

/**
 * The same for one transaction only (set_config's is_local): a COPY's session
 * (copy-out.ts) may be one kysely never set up, whose server session must keep
 * nothing of the tool's once the COPY ends (session-token.ts: behind a pooler
 * the next client gets it).
 */
export const TRANSACTION_PIN_STATEMENTS = pinStatements(true);

function pinStatements(local: boolean): readonly string[] {
  return [
    // Kept when already read: pinning a session again must not record the pinned path as the user's.
    `select pg_catalog.set_config('${USER_SEARCH_PATH_SETTING}', coalesce(nullif(pg_catalog.current_setting('${USER_SEARCH_PATH_SETTING}', true), ''), pg_catalog.array_to_json(pg_catalog.current_schemas(true))::text), ${local})`,
    `select pg_catalog.set_config('search_path', '${PINNED_SEARCH_PATH}', ${local})`,
  ];
}
