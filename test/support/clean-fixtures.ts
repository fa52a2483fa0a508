import type { ChildReference } from '../../src/clean/types.js';

/** A child table `notes(lead_id)` of public.leads, with a unique index on (lead_id, kind): the unit tests' usual foreign key. */
export const notesReference: ChildReference = {
  constraint: 'notes_fk',
  schema: 'public',
  table: 'notes',
  column: 'lead_id',
  parent: { schema: 'public', table: 'leads' },
  shared: [],
  copied: [],
  distributionColumn: null,
  primaryKey: ['id'],
  onDelete: 'restrict',
  self: false,
  notNull: true,
  indexed: true,
  uniqueIndexes: [{ name: 'notes_uq', columns: ['lead_id', 'kind'], nullsNotDistinct: false }],
};
