import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CompiledQuery, Kysely, type LogEvent, sql } from 'kysely';
import pg from 'pg';
import { ConnectionError, SharedSessionError, UsageError } from '../errors.js';
import { backendCanceller } from './cancel.js';
import { blockerProbe } from './lock-waits.js';
import { settingsStatement, startSessions } from './session-start.js';
import { GuardedPostgresDialect } from './guarded-dialect.js';
import { copyOut } from './copy-out.js';
import type { Database, DynamicSchema } from './database.js';
import { describeTarget, type DatabaseTarget, type PostgresTarget } from './database-target.js';
import { PARALLEL_WORKERS_SETTING } from './parallel-workers.js';
import { passwordFor } from './pgpass.js';
import { chooseServer, failureText, type ChosenServer } from './connection/choose-server.js';
import { describeEndpoint } from './connection/endpoints.js';
import { readOnlyState } from './read-only.js';
import { SESSION_PIN_STATEMENTS } from './session-pin.js';
import { logsSql, sqlLogger } from './sql-log.js';

export interface ConnectOptions {
  /** Pool size on a server; scans of several keys run on this many connections at once. */
  connections?: number;
  /**
   * The session's statement_timeout and lock_timeout, in ms (0 = none, the
   * default): every session of the command starts with the command's own
   * limits, so a database- or role-level setting (ALTER DATABASE … SET
   * statement_timeout) cannot cut a staging statement or an index build short.
   */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  /**
   * Let the planner give one statement the server's parallel workers
   * (PARALLEL_WORKERS_SETTING). For a command that runs one big aggregate at
   * a time: its sort or expressions then run on several cores. Commands that
   * already run statements side by side leave it off.
   */
  parallelWorkers?: boolean;
  /** pglite:<dir> only: create the database when the folder holds none (seed and demo); otherwise exit 2. */
  createPglite?: boolean;
  /** Every statement with its duration on stderr (sql-log.ts); default: LEAD_DEDUPE_LOG_SQL=1 in the environment. */
  logSql?: boolean;
}

/**
 * Opens the database, hands it to `fn`, and always closes it, whatever `fn`
 * does. The only place a connection is opened.
 */
export async function withDatabase<T>(target: DatabaseTarget, fn: (database: Database) => Promise<T>, options: ConnectOptions = {}): Promise<T> {
  const database = await openDatabase(target, options);
  try {
    return await fn(database);
  } finally {
    await database.db.destroy();
  }
}

function statementLog(options: ConnectOptions): ((event: LogEvent) => void) | undefined {
  return (options.logSql ?? logsSql(process.env)) ? sqlLogger((text) => process.stderr.write(text)) : undefined;
}

/** For long-lived holders (test suites, the benchmark) that close with `database.db.destroy()`; commands use withDatabase. */
export async function openDatabase(target: DatabaseTarget, options: ConnectOptions = {}): Promise<Database> {
  if (target.kind === 'pglite') {
    // Loaded on demand: a server run should not pay PGlite's start-up.
    const [{ PGlite }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]);
    // A misspelt folder must not become a new empty database that reports "0 rows".
    if (target.dataDir !== null && !options.createPglite && !existsSync(join(target.dataDir, 'PG_VERSION'))) {
      throw new UsageError(`no embedded database in ${target.dataDir} (pglite:<dir> names a folder that \`lead-dedupe seed\` or \`lead-dedupe demo\` created)`);
    }
    const client = target.dataDir === null ? new PGlite() : new PGlite(target.dataDir);
    try {
      await client.waitReady;
    } catch (error) {
      throw new ConnectionError(`cannot open embedded database ${describeTarget(target)}: ${messageOf(error)}`);
    }
    const db = new Kysely<DynamicSchema>({ dialect: new PGliteDialect(client), log: statementLog(options) });
    // One session: the settings a server gets in its start-up packet are set here instead.
    for (const [name, value] of sessionSettings(options)) await sql`select pg_catalog.set_config(${name}, ${value}, false)`.execute(db);
    for (const statement of SESSION_PIN_STATEMENTS) await sql.raw(statement).execute(db);
    const features = { driver: 'pglite' as const, serverVersionNum: await versionNum(db), maxConcurrency: 1, readOnly: await readOnlyState(db) };
    return { db, features, copyOut: null, cancel: null };
  }
  const connections = Math.max(1, options.connections ?? 2);
  let chosen: ChosenServer;
  try {
    chosen = await chooseServer(target, sessionConfig(target, options), passwordFor(target));
  } catch (error) {
    throw new ConnectionError(`cannot connect to ${describeTarget(target)}: ${messageOf(error)}`);
  }
  const config = chosen.config;
  const pool = new pg.Pool({
    ...config,
    Client: EndingClient,
    max: connections,
    // No connectionTimeoutMillis: pg-pool applies it to waiting for a free pooled client too, so
    // queued key scans on a large table failed with "timeout exceeded when trying to connect".
    // Reaching the server is bounded below instead.
    connectionTimeoutMillis: undefined,
    // Idle sessions stay open until the run ends, when each is handed back clean (guarded-dialect.ts): one closed
    // earlier by the pool would leave the tool's settings on its server session behind a pooler.
    idleTimeoutMillis: 0,
  });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => undefined);
  const sessions = startSessions(pool);
  const cancel = backendCanceller(config, sessions);
  const blockers = () => blockerProbe(config, () => [...sessions.values()].flatMap(({ serverPid }) => (serverPid === null ? [] : [serverPid])));
  // Each pooled session is set up before kysely runs anything on it: its settings again and the search_path pin
  // (session-pin.ts), in one transaction with the claim of its server session (session-guard.ts), which every
  // later transaction checks; a COPY sets up its own transaction (copy-out.ts).
  const settings = settingsStatement(serverSettings(options));
  const copySettings = settingsStatement(serverSettings(options), true);
  const setup = [CompiledQuery.raw(settings.text, settings.values), ...SESSION_PIN_STATEMENTS.map((statement) => CompiledQuery.raw(statement))];
  const db = new Kysely<DynamicSchema>({ dialect: new GuardedPostgresDialect({ pool }, setup), log: statementLog(options) });
  try {
    return {
      db,
      features: {
        driver: 'postgres',
        serverVersionNum: await withinConnectTimeout(versionNum(db)),
        maxConcurrency: connections,
        readOnly: await readOnlyState(db),
      },
      copyOut: (statement, destination, snapshotId) => copyOut(pool, copySettings, statement, destination, snapshotId ?? null),
      cancel,
      blockers,
    };
  } catch (error) {
    await db.destroy().catch(() => undefined);
    if (error instanceof SharedSessionError) throw error;
    throw new ConnectionError(`cannot connect to ${describeEndpoint(chosen.endpoint)}/${target.database}: ${messageOf(error)}`);
  }
}

/**
 * What every session of a server target starts with, whichever endpoint
 * is chosen: every field set here, so node-postgres reads nothing from the
 * environment or a string on its own (its PGSSLMODE reading would print a
 * SECURITY WARNING).
 */
function sessionConfig(target: PostgresTarget, options: ConnectOptions): pg.ClientConfig {
  return {
    // application_name, PGAPPNAME or fallback_application_name when given; the interrupt handler and DBAs find the sessions by this name.
    application_name: target.applicationName ?? 'lead-dedupe',
    ...(target.clientEncoding === null ? {} : { client_encoding: target.clientEncoding }),
    // bench/README.md (B1): JIT compilation costs 0.02-0.9 s per duplicate query and never paid off.
    // Start-up options outrank ALTER DATABASE/ROLE settings, so the command's timeouts hold on every pooled
    // session; they come after the user's options= / PGOPTIONS, so they win over those too.
    options: [...(target.options === null ? [] : [target.options]), ...serverSettings(options).map(([name, value]) => `-c ${name}=${value}`)].join(' '),
  };
}

/**
 * pg-pool drops a client whose connect failed (say, no password to give)
 * without closing its socket, which kept the process alive until the server
 * hung up; this client closes it.
 */
class EndingClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // A session the server ends (pg_terminate_backend, a restart) also fails the statement or COPY in flight,
    // which reports it; the client's own 'error' event must not crash the process with a stack trace.
    this.on('error', () => undefined);
  }

  override connect(): Promise<pg.Client>;
  override connect(callback: ((err: Error) => void) | ((err: null, client: pg.Client) => void)): void;
  override connect(callback?: ((err: Error) => void) | ((err: null, client: pg.Client) => void)): Promise<pg.Client> | undefined {
    if (callback === undefined) return super.connect().catch((error: unknown) => this.endAfter(error));
    super.connect((error: Error | null) => {
      if (error) void this.end().catch(() => undefined);
      (callback as (err: Error | null, client?: pg.Client) => void)(error, this);
    });
  }

  private async endAfter(error: unknown): Promise<never> {
    await this.end().catch(() => undefined);
    throw error;
  }
}

/** A server session's settings: sessionSettings, and jit off (bench/README.md B1). */
function serverSettings(options: ConnectOptions): [string, string][] {
  return [['jit', 'off'], ...sessionSettings(options)];
}

/** statement_timeout and lock_timeout as whole milliseconds (0 = no limit), and the planner's parallel setting. */
function sessionSettings(options: ConnectOptions): [string, string][] {
  const ms = (value: number | undefined) => `${Math.max(0, Math.round(value ?? 0))}ms`;
  return [
    ['statement_timeout', ms(options.statementTimeoutMs)],
    ['lock_timeout', ms(options.lockTimeoutMs)],
    // Literals the tool writes (E'' strings from escapeLiteral, kysely's '' doubling) mean the same either way; 'on' is the standard.
    ['standard_conforming_strings', 'on'],
    ...(options.parallelWorkers ? [[PARALLEL_WORKERS_SETTING.name, PARALLEL_WORKERS_SETTING.value] as [string, string]] : []),
  ];
}

const CONNECT_TIMEOUT_MS = 10_000;

function withinConnectTimeout<T>(first: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
  });
  return Promise.race([first, timeout]).finally(() => clearTimeout(timer));
}

async function versionNum(db: Kysely<DynamicSchema>): Promise<number> {
  const { rows } = await sql<{ v: string }>`select current_setting('server_version_num') as v`.execute(db);
  return Number(rows[0]?.v ?? 0);
}

const messageOf = failureText;
