import { PRINTED_RUN_ID, type CleanScript, type ScriptStep } from '../../clean/print-script.js';

/**
 * `clean --print-sql`: the statements of a run's staging and first batch,
 * step by step, as the run sends them (text, then its parameters), for the
 * DBA who reviews or profiles a clean-up. Nothing here runs.
 */
export function renderCleanScript(script: CleanScript): string {
  const lines = [
    `-- lead-dedupe clean --print-sql: key ${script.key} on ${script.table} (${script.placement})`,
    `-- A run first takes the table's advisory lock, creates the archive in "${script.archiveSchema}" if missing and records itself`,
    `-- in its run log; the statements below carry run id ${PRINTED_RUN_ID} where the run's own id goes.`,
    '',
    '-- Staging, once per run (reads the table, locks no row):',
    ...script.staging.flatMap(renderStep),
    '',
    '-- Batch 1, in its own transaction; every batch runs the same steps with its own number:',
    'begin;',
    ...script.batch.flatMap(renderStep),
    'commit;',
  ];
  return `${lines.join('\n')}\n`;
}

function renderStep(step: ScriptStep): string[] {
  const header = `-- step ${step.name}${step.onlyWhen === null ? '' : ` (only when ${step.onlyWhen})`}`;
  return [
    header,
    ...step.statements.flatMap((statement) => [
      `${statement.sql};`,
      ...(statement.parameters.length === 0 ? [] : [`-- parameters: ${JSON.stringify(statement.parameters, jsonValue)}`]),
    ]),
  ];
}

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
