import { formatCount } from './format.js';

/**
 * Horizontal bars, the longest `width` cells wide:
 *
 *   2      ██████████████████████████████ 3,020
 *   3      ██████ 600
 */
export function histogram(buckets: { label: string; value: number }[], width = 40): string[] {
  const largest = Math.max(1, ...buckets.map((b) => b.value));
  const labelWidth = Math.max(...buckets.map((b) => b.label.length));
  return buckets.map(({ label, value }) => {
    const cells = value === 0 ? 0 : Math.max(1, Math.round((value / largest) * width));
    return `  ${label.padEnd(labelWidth)}  ${'█'.repeat(cells)}${cells > 0 ? ' ' : ''}${formatCount(value)}`;
  });
}
