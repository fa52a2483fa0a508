import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { loadConfigFile } from '../cli/config-file.js';
import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { quietOption, serverOptions } from '../cli/options.js';
import { renderContext, writeReport } from '../cli/output.js';
import { resolveDatabaseTarget } from '../cli/settings.js';
import { connectionReport } from '../core/connection/connection-report.js';
import { ExitCode } from '../errors.js';
import { renderConnection } from '../render/connection/index.js';

const CONNECTION_OPTIONS = [
  ...serverOptions(),
  new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'),
  new Option('--output <file>', 'write the report to a file instead of stdout (- for stdout)'),
  quietOption(),
] as const;

type ConnectionFlags = FlagsOf<typeof CONNECTION_OPTIONS>;

export const connectionCommand = defineCommand({
  name: 'connection',
  description: 'show the server, user, database and TLS mode the tool would use, and where each came from (does not connect)',
  options: CONNECTION_OPTIONS,
  examples: [
    'lead-dedupe connection',
    'PGSERVICE=crm lead-dedupe connection --format json',
    'lead-dedupe connection -d "host=db1,db2 target_session_attrs=read-write"',
  ],
  exitCodes: COMMON_EXIT_CODES,
  run: runConnection,
});

/** Resolves the connection as every other command does, and reports it; never opens a session. */
async function runConnection(flags: ConnectionFlags): Promise<ExitCode> {
  const config = loadConfigFile(flags.config);
  const target = resolveDatabaseTarget(flags.database, config.database, process.env);
  await writeReport(renderConnection(connectionReport(target), flags.format, renderContext(target, flags)), flags);
  return ExitCode.ok;
}
