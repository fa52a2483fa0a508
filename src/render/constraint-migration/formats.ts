import type { ConstraintMigration } from '../../core/constraint/plan-migration.js';
import { UsageError } from '../../errors.js';
import { fileText, header, plainSteps, statementText, stepLines, type MigrationFiles, type MigrationFormat, type MigrationNaming } from './files.js';

/**
 * The files of each format. All carry the same statements in the same
 * order; they differ in how each tool is told to run them outside a
 * transaction and where each statement ends.
 */
export function renderMigrationFiles(migration: ConstraintMigration, format: MigrationFormat, naming: MigrationNaming): MigrationFiles {
  switch (format) {
    case 'sql':
      return plainSql(migration, naming);
    case 'sqitch':
      return sqitch(migration, naming);
    case 'goose':
      return goose(migration, naming);
    case 'golang-migrate':
      return golangMigrate(migration, naming);
    case 'flyway':
      return flyway(migration, naming);
    default:
      return format satisfies never;
  }
}

/** psql autocommits each statement; ON_ERROR_STOP makes the first failure (the pre-flight's) stop the file with a non-zero exit. */
function plainSql(migration: ConstraintMigration, { name }: MigrationNaming): MigrationFiles {
  const file = (direction: 'up' | 'down') => `${name}.${direction}.sql`;
  const run = (direction: 'up' | 'down') => `psql -v ON_ERROR_STOP=1 -f ${file(direction)} (never with -1/--single-transaction)`;
  return {
    format: 'sql',
    files: [
      { path: file('up'), text: fileText([...header(migration, 'up', run('up')), ...plainSteps(migration, migration.up)]) },
      { path: file('down'), text: fileText([...header(migration, 'down', run('down')), ...plainSteps(migration, migration.down)]) },
    ],
    sqitchPlan: null,
    run: [`up: psql -v ON_ERROR_STOP=1 -f ${file('up')}`, `down: psql -v ON_ERROR_STOP=1 -f ${file('down')}`],
  };
}

/**
 * sqitch's pg engine runs each script with `psql --file` and ON_ERROR_STOP,
 * in autocommit; its own registry transaction is on a connection of its own.
 * So a script without BEGIN/COMMIT may hold CONCURRENTLY.
 */
function sqitch(migration: ConstraintMigration, { name, now }: MigrationNaming): MigrationFiles {
  const run = 'sqitch deploy db:pg://…  (revert: sqitch revert; verify: sqitch verify)';
  const verify = [
    `-- Verify ${name}: fails unless "${migration.plan.name}" on ${migration.plan.table} is there and valid.`,
    statementText({ sql: migration.verify, alone: false }),
  ];
  const what = migration.kind === 'constraint' ? 'unique constraint' : 'unique index';
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    format: 'sqitch',
    files: [
      { path: `deploy/${name}.sql`, text: fileText([...header(migration, 'up', run), ...plainSteps(migration, migration.up)]) },
      { path: `revert/${name}.sql`, text: fileText([...header(migration, 'down', run), ...plainSteps(migration, migration.down)]) },
      { path: `verify/${name}.sql`, text: fileText(verify) },
    ],
    sqitchPlan: {
      change: name,
      line: `${name} ${stamp} lead-dedupe <lead-dedupe@localhost> # ${what} ${migration.plan.name} on ${migration.plan.table} (key ${migration.plan.key.name})`,
    },
    run: ['deploy: sqitch deploy db:pg://…', 'revert: sqitch revert db:pg://…', 'verify: sqitch verify db:pg://…'],
  };
}

/**
 * goose: `-- +goose NO TRANSACTION` runs the file's statements one by one
 * outside a transaction; each statement sits between StatementBegin and
 * StatementEnd, since a DO block holds semicolons of its own.
 */
function goose(migration: ConstraintMigration, { name, version }: MigrationNaming): MigrationFiles {
  const path = `${version}_${name}.sql`;
  const section = (steps: ConstraintMigration['up']) =>
    steps.flatMap((step) => [
      '',
      ...stepLines(migration, step),
      ...step.statements.flatMap((statement) => ['-- +goose StatementBegin', statementText(statement), '-- +goose StatementEnd']),
    ]);
  const lines = [
    '-- +goose NO TRANSACTION',
    ...header(migration, 'up', `goose -dir <dir> postgres "<dsn>" up (down: goose … down)`),
    '',
    '-- +goose Up',
    ...section(migration.up),
    '',
    '-- +goose Down',
    ...section(migration.down),
  ];
  return {
    format: 'goose',
    files: [{ path, text: fileText(lines) }],
    sqitchPlan: null,
    run: ['up: goose -dir <dir> postgres "<dsn>" up', 'down: goose -dir <dir> postgres "<dsn>" down'],
  };
}

/**
 * golang-migrate's postgres driver sends a whole file as one query, and
 * PostgreSQL runs a multi-statement query as one transaction, which
 * CONCURRENTLY refuses; x-multi-statement splits on every `;`, DO blocks
 * included. So: one statement per version, consecutive versions from
 * --migration-version. The build's down drops the index (a no-op once the
 * constraint's down dropped it with its constraint); the last version's
 * down is constraint drop's; the checks have nothing to undo.
 */
function golangMigrate(migration: ConstraintMigration, { name, version }: MigrationNaming): MigrationFiles {
  const statements = migration.up.flatMap((step) => step.statements.map((statement) => ({ step, statement })));
  const down = migration.down.flatMap((step) => step.statements);
  if (down.length !== 1) throw new Error(`golang-migrate: the down holds ${down.length} statements; one version holds one`);
  const first = BigInt(version);
  const files = statements.flatMap(({ step, statement }, index) => {
    const base = `${first + BigInt(index)}_${name}_${index + 1}_${step.purpose.replace(/-/g, '_')}`;
    const last = index === statements.length - 1;
    const downLines = last
      ? [...migration.down.flatMap((d) => stepLines(migration, d)), statementText(down[0]!)]
      : step.purpose === 'build'
        ? ['-- Drop the index this version built (nothing left to drop once the constraint went with its own down).', `${migration.plan.dropSql};`]
        : ['-- Nothing to undo for this step.', 'select 1;'];
    return [
      { path: `${base}.up.sql`, text: fileText([...stepLines(migration, step), statementText(statement)]) },
      { path: `${base}.down.sql`, text: fileText(downLines) },
    ];
  });
  const last = first + BigInt(statements.length - 1);
  return {
    format: 'golang-migrate',
    files,
    sqitchPlan: null,
    run: [
      `up: migrate -path <dir> -database "postgres://…" up   (versions ${first}…${last}, one statement each; no x-multi-statement, no x-use-transaction)`,
      `down: migrate -path <dir> -database "postgres://…" down ${statements.length}`,
    ],
  };
}

/**
 * Flyway: a script config file (`<script>.conf`, executeInTransaction=false)
 * runs the script outside a transaction; Flyway's own PostgreSQL parser
 * splits the statements (it knows dollar quotes). U is the undo script.
 */
function flyway(migration: ConstraintMigration, { name, version }: MigrationNaming): MigrationFiles {
  const up = `V${version}__${name}.sql`;
  const undo = `U${version}__${name}.sql`;
  const conf = 'executeInTransaction=false\n';
  // Flyway replaces ${…} in scripts with its placeholders (on by default) and fails on an unknown one.
  if ([...migration.up, ...migration.down].some((step) => step.statements.some((statement) => statement.sql.includes('${')))) {
    throw new UsageError('a statement holds "${", which Flyway reads as a placeholder: use --migration sql with psql, or rename the column or index');
  }
  return {
    format: 'flyway',
    files: [
      { path: up, text: fileText([...header(migration, 'up', 'flyway migrate'), ...plainSteps(migration, migration.up)]) },
      { path: `${up}.conf`, text: conf },
      { path: undo, text: fileText([...header(migration, 'down', 'flyway undo'), ...plainSteps(migration, migration.down)]) },
      { path: `${undo}.conf`, text: conf },
    ],
    sqitchPlan: null,
    run: ['up: flyway -locations=filesystem:<dir> migrate', 'down: flyway -locations=filesystem:<dir> undo (Flyway Teams; else run the U script with psql)'],
  };
}
