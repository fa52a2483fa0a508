import { spawn } from 'node:child_process';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { summarise, type Measured } from './measure.js';
import type { CaseResult } from './report.js';

/** SSLRequest's code in place of a protocol version: the client asks for TLS before its startup message. */
const SSL_REQUEST = 80877103;

/**
 * The `startup` case: from spawning `scan --key device-phone` to its first statement (a Query or Parse message)
 * arriving at a TCP relay in front of the server, against `node -e 0` spawned to its exit (Node's own start, the
 * floor). The relay reads only the client's side of the protocol and forwards every byte both ways unchanged.
 */
export async function startupCase(url: string, bin: string, rounds: number, loadBefore: [number, number, number]): Promise<CaseResult> {
  const server = new URL(url);
  const relay = new Relay(server.hostname, Number(server.port || 5432));
  const port = await relay.listen();
  const viaRelay = new URL(url);
  viaRelay.port = String(port);
  viaRelay.searchParams.set('sslmode', 'disable');
  try {
    const tool: Measured[] = [];
    const node: Measured[] = [];
    // Each run is a fraction of a second: five times the rounds, alternating, for a median worth the name.
    for (let round = 0; round < rounds * 5; round++) {
      tool.push(await relay.untilFirstStatement(process.execPath, [bin, 'scan', '--key', 'device-phone', '--format', 'json', '--database', viaRelay.href]));
      node.push(await untilExit(process.execPath, ['-e', '0']));
    }
    return { ...summarise('startup', tool, node), loadBefore };
  } finally {
    relay.close();
  }
}

class Relay {
  private readonly server = createServer((client) => this.relay(client));
  private firstStatement: (() => void) | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)));
  }

  close(): void {
    this.server.close();
  }

  /** Spawn to the first statement; the process then runs to its end (a failing run fails the bench). */
  async untilFirstStatement(command: string, args: string[]): Promise<Measured> {
    const started = performance.now();
    const first = new Promise<number>((resolve) => (this.firstStatement = () => resolve(performance.now())));
    const exit = untilExit(command, args);
    const [at] = await Promise.all([first, exit]);
    return { seconds: (at - started) / 1000, peakRssMb: Number.NaN, stdout: '' };
  }

  private relay(client: Socket): void {
    const upstream = connect(this.port, this.host);
    let pending = Buffer.alloc(0);
    let started = false;
    let watching = true;
    client.on('data', (chunk) => {
      upstream.write(chunk);
      if (!watching) return;
      pending = Buffer.concat([pending, chunk]);
      while (watching) {
        if (!started) {
          // untyped: the startup message, or an SSLRequest before it (the relay's URL says sslmode=disable)
          if (pending.length < 8 || pending.length < pending.readInt32BE(0)) return;
          started = pending.readInt32BE(4) !== SSL_REQUEST;
          pending = pending.subarray(pending.readInt32BE(0));
          continue;
        }
        if (pending.length < 5) return;
        const type = String.fromCharCode(pending[0]!);
        if (type === 'Q' || type === 'P') {
          this.firstStatement?.();
          this.firstStatement = null;
          watching = false;
          return;
        }
        if (pending.length < 1 + pending.readInt32BE(1)) return;
        pending = pending.subarray(1 + pending.readInt32BE(1));
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }
}

function untilExit(command: string, args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      else resolve({ seconds: (performance.now() - started) / 1000, peakRssMb: Number.NaN, stdout: '' });
    });
  });
}
