import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { InterruptedError } from '../errors.js';
import type { Db } from './database.js';

/**
 * Refuses every statement once `signal` has aborted. A batch run through it
 * stops at its next statement and its transaction rolls back (the caller
 * ends the transaction on the plain connection). On a server the statement
 * already running is cancelled besides (Database.cancel); PGlite runs in
 * this thread, so between statements is the only place it can stop.
 */
class RefuseWhenAborted implements KyselyPlugin {
  constructor(private readonly signal: AbortSignal) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.signal.aborted) throw new InterruptedError('stopped by a signal');
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

export function abortable(db: Db, signal: AbortSignal | undefined): Db {
  return signal === undefined ? db : db.withPlugin(new RefuseWhenAborted(signal));
}
