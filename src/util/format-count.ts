/** 8069 → "8,069": every count a person reads, in reports and in messages (core's errors too). */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
