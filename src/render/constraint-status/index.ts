import type { ConstraintStatus } from '../../core/constraint/status.js';
import { formatValue, plainTable } from '../common/format.js';
import { keyColumnsText, shorten } from '../common/constraint-text.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { distributionText } from '../common/distribution-text.js';
import { skippedKeysLine } from '../../keys/skipped-keys.js';

export function renderConstraintStatus(status: ConstraintStatus, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(format, { table: () => renderText(status, context.width), json: () => status }, context);
}

function renderText(status: ConstraintStatus, width: number): string {
  const lines = [`${status.table}: ${status.indexes.length} unique constraint(s)/index(es)`, ...[distributionText(status.distribution) ?? []].flat(), ''];
  const indexes = plainTable({ head: ['name', 'kind', 'columns / expressions', 'NULLs', 'valid', 'note'] }, width);
  for (const index of status.indexes) {
    const notes = [
      index.predicate !== null ? `partial: where ${shorten(index.predicate, 30)}` : '',
      index.immediate ? '' : 'deferrable',
      index.valid ? '' : 'left by a failed build: drop it',
    ].filter(Boolean);
    indexes.push([
      index.name,
      index.kind,
      index.elements.map((element) => status.elementLabels[element] ?? shorten(element)).join(', '),
      index.nullsNotDistinct ? 'not distinct' : 'distinct',
      index.valid ? 'yes' : 'NO',
      notes.join('; ') || '-',
    ]);
  }
  lines.push(status.indexes.length > 0 ? indexes.toString() : '(no unique constraints or indexes)', '');
  const keys = plainTable({ head: ['key', 'columns', 'NULLs', 'protected by'] }, width);
  for (const protection of status.keys) {
    keys.push([protection.key.name, keyColumnsText(protection.key), protection.key.nullsEqual ? 'equal' : 'distinct', protectedText(protection)]);
  }
  lines.push('Keys:', status.keys.length > 0 ? keys.toString() : '(no key to check on this table)');
  const skipped = skippedKeysLine(status.skippedKeys, status.table);
  if (skipped !== null) lines.push(skipped);
  if (!status.nullsNotDistinctSupported) {
    lines.push(`this server (${formatValue(status.serverVersionNum)}) has no UNIQUE NULLS NOT DISTINCT: keys with NULLs equal cannot be protected`);
  }
  return `${lines.join('\n')}\n`;
}

function protectedText(protection: ConstraintStatus['keys'][number]): string {
  if (protection.protectedBy.length > 0) return protection.protectedBy.join(', ');
  if (protection.impliedBy.length > 0) return `${protection.impliedBy.join(', ')} (on fewer columns)`;
  if (protection.missingDistributionColumn !== null) return `NOT PROTECTED; Citus needs ${protection.missingDistributionColumn} in it`;
  return 'NOT PROTECTED';
}
