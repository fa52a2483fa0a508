import { Option } from 'commander';
import type { CommandSpec } from '../cli/command-spec.js';
import { loadConfigFile } from '../cli/config-file.js';
import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { quietOption, tableOptions, type OutputFlags, type TableFlags } from '../cli/options.js';
import { renderContext, writeReport } from '../cli/output.js';
import { resolveDatabaseTarget } from '../cli/settings.js';
import { connectionReport } from '../core/connection/connection-report.js';
import { ExitCode } from '../errors.js';
import { renderConnection, type ConnectionFormat } from '../render/connection/index.js';

type ConnectionFlags = Pick<TableFlags, 'database' | 'config'> & OutputFlags<ConnectionFormat>;

export const connectionCommand: CommandSpec<ConnectionFlags> = {
  name: 'connection',
  description: 'show the server, user, database and TLS mode the tool would use, and where each came from (does not connect)',
  options: [
    ...tableOptions().filter((option) => ['--database', '--config'].includes(option.long ?? '')),
    new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'),
    new Option('--output <file>', 'write the report to a file instead of stdout (- for stdout)'),
    quietOption(),
  ],
  examples: [
    'lead-dedupe connection',
    'PGSERVICE=crm lead-dedupe connection --format json',
    'lead-dedupe connection -d "host=db1,db2 target_session_attrs=read-write"',
  ],
  exitCodes: COMMON_EXIT_CODES,
  run: runConnection,
};

/** Resolves the connection as every other command does, and reports it; never opens a session. */
async function runConnection(flags: ConnectionFlags): Promise<ExitCode> {
  const config = loadConfigFile(flags.config);
  const target = resolveDatabaseTarget(flags.database, config.database, process.env);
  await writeReport(renderConnection(connectionReport(target), flags.format, renderContext(target, flags)), flags);
  return ExitCode.ok;
}
