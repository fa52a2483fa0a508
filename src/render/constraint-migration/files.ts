import type { ConstraintMigration, MigrationStatement, MigrationStep } from '../../core/constraint/plan-migration.js';
import { stepComment } from '../constraint-add/sql.js';

/**
 * What the five formats share: the text of a step (its comment, then its
 * statements each ending in `;`), and the header naming what the file does.
 */

/** The tools `constraint add --migration` writes for, each in the form it needs to run outside a transaction. */
export const MIGRATION_FORMATS = ['sql', 'sqitch', 'goose', 'golang-migrate', 'flyway'] as const;
export type MigrationFormat = (typeof MIGRATION_FORMATS)[number];

/** One file to write, relative to --migration-dir. */
export interface MigrationFile {
  path: string;
  text: string;
}

export interface MigrationFiles {
  format: MigrationFormat;
  files: MigrationFile[];
  /** sqitch: the change's line, added to sqitch.plan (created when missing). */
  sqitchPlan: { change: string; line: string } | null;
  /** How to run the files, one command per line. */
  run: string[];
}

/** The inputs every format takes besides the migration. */
export interface MigrationNaming {
  /** [A-Za-z0-9_]+: the file and change name. */
  name: string;
  /** Digits: goose's, golang-migrate's (the first of its consecutive versions) and Flyway's version. */
  version: string;
  /** When the files are written (sqitch.plan records it). */
  now: Date;
}

export function header(migration: ConstraintMigration, direction: 'up' | 'down', run: string): string[] {
  const { plan } = migration;
  const what = migration.kind === 'constraint' ? 'unique constraint' : 'unique index';
  const does =
    direction === 'up'
      ? `adds the ${what} "${plan.name}" on ${plan.table} for key ${plan.key.name}, as lead-dedupe constraint add does`
      : `drops the ${what} "${plan.name}" on ${plan.table}, as lead-dedupe constraint drop does`;
  return [
    `-- Written by lead-dedupe constraint add --migration: ${does}.`,
    '-- Every statement runs on its own, outside any transaction block (CREATE/DROP INDEX CONCURRENTLY refuse one);',
    '-- a step that needs a transaction (SET LOCAL lock_timeout) is one DO block, its own implicit transaction.',
    `-- Run: ${run}`,
  ];
}

/** The comment above a step: constraint add's own for its planned steps. */
export function stepLines(migration: ConstraintMigration, step: MigrationStep): string[] {
  // The invalid-leftover drop is constraint add's step, but in a file it is conditional (IF EXISTS, after the guard): its own words.
  const text = step.planned !== null && step.purpose !== 'drop-invalid' ? stepComment(migration.plan, step.planned) : ownComment(migration, step);
  return text.map((line) => `-- ${line}`);
}

function ownComment(migration: ConstraintMigration, step: MigrationStep): string[] {
  const { plan } = migration;
  switch (step.purpose) {
    case 'guard':
      return [
        `Stop unless "${plan.name}" is free or an INVALID index on ${plan.table} (left by a failed or interrupted build),`,
        'so the drop below never removes another index.',
      ];
    case 'drop-invalid':
      return ['Drop an INVALID leftover by that name, if there is one, without blocking writes (it is still maintained on every write).'];
    case 'preflight':
      return ['Pre-flight: fail with the count while duplicates remain under the key, before anything is built.'];
    case 'drop':
      return migration.kind === 'constraint'
        ? ['Drop the constraint (its index goes with it) under lock_timeout, as constraint drop does.']
        : ['Drop the unique index without blocking writes, as constraint drop does.'];
    default:
      return [];
  }
}

export function statementText(statement: MigrationStatement): string {
  return `${statement.sql};`;
}

/** A step's comment and statements, blank-line separated from the next. */
export function plainSteps(migration: ConstraintMigration, steps: MigrationStep[]): string[] {
  return steps.flatMap((step) => ['', ...stepLines(migration, step), ...step.statements.map(statementText)]);
}

export function fileText(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
