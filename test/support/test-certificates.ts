import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  caCert: string;
  /** A second CA that signed nothing the server shows. */
  otherCaCert: string;
  serverCert: string;
  serverKey: string;
}

/**
 * A throwaway CA and a server certificate it signs, made with openssl in
 * `dir`: valid for IP 127.0.0.1 and the name `serverName` (P-256 keys, two days).
 */
export async function makeTestCertificates(dir: string, serverName: string): Promise<TestCertificates> {
  const path = (name: string) => join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    await run('openssl', ['req', '-x509', ...key, '-keyout', path(`${ca}.key`), '-out', path(`${ca}.crt`), '-days', '2', '-subj', `/CN=lead-dedupe ${ca}`]);
  }
  await run('openssl', ['req', ...key, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', `/CN=${serverName}`]);
  writeFileSync(path('server.ext'), `subjectAltName=IP:127.0.0.1,DNS:${serverName}\n`);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-out',
    path('server.crt'),
    '-days',
    '2',
    '-extfile',
    path('server.ext'),
  ]);
  return { caCert: path('ca.crt'), otherCaCert: path('other-ca.crt'), serverCert: path('server.crt'), serverKey: path('server.key') };
}
