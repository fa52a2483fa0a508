/** csv-stringify options shared by every CSV the tool writes. */
export const CSV_CAST = {
  boolean: (value: boolean) => (value ? 'true' : 'false'),
  date: (value: Date) => value.toISOString(),
  object: (value: object) => JSON.stringify(value),
};
