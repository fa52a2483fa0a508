/** The parts of pgpass (node-postgres' own pgpass reader) that db/pgpass.ts uses; the package ships no types. */
declare module 'pgpass/lib/helper.js' {
  import type { Stats } from 'node:fs';
  import type { Readable } from 'node:stream';
  interface ConnectionInfo {
    host: string;
    port: number;
    database: string;
    user: string;
  }
  const helper: {
    getFileName(env?: Record<string, string | undefined>): string;
    usePgPass(stats: Stats, fileName?: string): boolean;
    getPassword(info: ConnectionInfo, stream: Readable, callback: (password: string | undefined) => void): void;
  };
  export default helper;
}
