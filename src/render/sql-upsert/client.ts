import type { UpsertClient } from '../../core/client/upsert-client.js';
import { renderGoClient, type GoClientOptions } from './go-client.js';
import { renderGoTest } from './go-test.js';
import { renderTsClient } from './ts-client.js';

/** `sql upsert --client`: the code that runs the statement (Go, TypeScript for pg), and the Go race test. */
export const CLIENTS = ['go', 'go-test', 'ts'] as const;
export type Client = (typeof CLIENTS)[number];

export function renderClient(client: UpsertClient, language: Client, options: GoClientOptions): string {
  switch (language) {
    case 'go':
      return renderGoClient(client, options);
    case 'go-test':
      return renderGoTest(client, options);
    case 'ts':
      return renderTsClient(client);
    default:
      return language satisfies never;
  }
}
