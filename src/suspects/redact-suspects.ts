import type { Redactor } from '../core/redaction.js';
import type { SuspectGroup, SuspectsReport } from './suspects.js';

/**
 * A group with customer values masked (as report's): every stored text
 * value, and in each reason the values it quotes (after "): " or ": ").
 * Ids, scores, numbers and times stay.
 */
export function redactSuspectGroup(group: SuspectGroup, redact: Redactor): SuspectGroup {
  const rows = Object.fromEntries(
    Object.entries(group.rows).map(([id, row]) => [id, Object.fromEntries(Object.entries(row).map(([column, value]) => [column, redact(value)]))]),
  );
  const reasons = (text: string) =>
    text
      .split('; ')
      .map((reason) => {
        const at = reason.indexOf(': ');
        return at === -1
          ? reason
          : `${reason.slice(0, at + 2)}${reason
              .slice(at + 2)
              .split(' / ')
              .map((value) => redact(value))
              .join(' / ')}`;
      })
      .join('; ');
  return { ...group, rows, pairs: group.pairs.map((pair) => ({ ...pair, reasons: reasons(pair.reasons) })) };
}

/** The whole report masked (report --suspects --redact). */
export function redactSuspects(report: SuspectsReport, redact: Redactor): SuspectsReport {
  return { ...report, groups: report.groups.map((group) => redactSuspectGroup(group, redact)) };
}
