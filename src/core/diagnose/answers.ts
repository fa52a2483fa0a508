import type { ResolvedKey } from '../../keys/key-definition.js';
import { keyCommand, type CommandLineContext } from '../../keys/key-command-line.js';
import type { DiagnoseReport } from './diagnose-report.js';

/** The four questions the duplicate analysis ended with, in its order. */
export const QUESTIONS = [
  'Should the same phone be allowed with different niches?',
  'Should the same phone be allowed on different devices?',
  'On a webhook retry, skip or update the existing lead?',
  'Are webhooks called concurrently?',
] as const;

type Figures = Omit<DiagnoseReport, 'answers' | 'durationMs'>;

const count = (n: number) => n.toLocaleString('en-US');

/** 0.71 → "71%"; a non-zero share that rounds to 0 is "<1%". */
export function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const value = (part / whole) * 100;
  if (part > 0 && value < 1) return '<1%';
  return `${Math.round(value)}%`;
}

/** 500 → "500 ms", 1000 → "1 s", 600000 → "10 min". */
export function formatWindow(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${count(ms)} ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${count(ms / 1000)} s`;
  if (ms < 3_600_000 || ms % 3_600_000 !== 0) return `${count(ms / 60_000)} min`;
  return `${count(ms / 3_600_000)} h`;
}

/**
 * Each answer is built from the figures: which sentence is said depends on
 * them, and every number in it is one of them. Thresholds (a fifth, a half)
 * only choose the wording, never hide a figure.
 */
export function answerQuestions(report: Figures, key: ResolvedKey, commandLine?: CommandLineContext): { question: string; answer: string }[] {
  const answers =
    report.surplus === 0
      ? Array(4).fill(noDuplicates(report))
      : [niches(report, key), devices(report, key), retryAnswer(report, key, commandLine), concurrency(report)];
  return QUESTIONS.map((question, index) => ({ question, answer: answers[index] as string }));
}

function noDuplicates(report: Figures): string {
  return `No duplicates under ${report.key.name} in ${count(report.rows)} rows: the data gives no evidence either way for this key.`;
}

function niches(report: Figures, key: ResolvedKey): string {
  if (key.columns.some((c) => c.logical === 'niche')) {
    return `${key.name} includes niche, so every group has a single niche; run diagnose with a key without niche (e.g. device-phone) to see how many copies differ only by niche.`;
  }
  const niche = report.columnsThatDiffer.find((c) => c.column === 'niche');
  if (niche === undefined) return `${report.table} has no niche column (map one with --map niche=<column>), so this question does not arise under ${key.name}.`;
  const share = niche.rows / report.surplus;
  const figures =
    `${count(niche.rows)} of the ${count(report.surplus)} surplus rows (${percent(niche.rows, report.surplus)}), in ${count(niche.groups)} of ${count(report.groups)} groups, ` +
    `carry another niche than the first copy of their group; ${count(niche.rowsDifferingOnlyHere)} differ in niche and nothing else.`;
  if (niche.rows === 0) return `${figures} The same phone never came with another niche: ${key.name} and ${key.name}-niche give the same result here.`;
  if (share < 0.2) {
    return (
      `${figures} Most copies repeat the first copy's niche: they are the same lead sent again, and enforcing ${key.name} merges them. ` +
      `Only if a phone may be a separate lead per niche should niche join the key; then those ${count(niche.rows)} rows stay.`
    );
  }
  return `${figures} That share is large: if a phone may be a separate lead per niche, add niche to the key; enforcing ${key.name} would merge leads of different niches.`;
}

function devices(report: Figures, key: ResolvedKey): string {
  const spread = report.phones;
  if (spread === null) {
    return (
      `${key.name} has no phone column (a column normalised with e164, or one mapped with --map phone=<column>); ` +
      'diagnose a key with the phone in it to answer this.'
    );
  }
  const phones = `${count(spread.phones)} phones in the table${spread.column === 'phone' ? '' : ` (${spread.column})`}`;
  if (spread.deviceColumn === null) {
    const noDevice = `${report.table} has no device column (map one with --map device_id=<column>), so the question does not arise here`;
    if (spread.userColumn === null) return `${noDevice}; nor a user column to compare the ${phones} across.`;
    return `${noDevice}; ${count(spread.forSeveralUsers)} of the ${phones} (${percent(spread.forSeveralUsers, spread.phones)}) appear for more than one user.`;
  }
  const figures =
    `${count(spread.onSeveralDevices)} of the ${phones} (${percent(spread.onSeveralDevices, spread.phones)}) appear on more than one device, ` +
    `and ${count(spread.forSeveralUsers)} (${percent(spread.forSeveralUsers, spread.phones)}) for more than one user.`;
  const perDevice = key.columns.some((c) => c.column === spread.deviceColumn);
  if (spread.onSeveralDevices === 0) return `${figures} No phone is shared between devices: a per-device rule and a per-phone rule agree today.`;
  if (perDevice) {
    return `${figures} Under ${key.name} these stay separate leads, one per device. If a phone should be one lead per user across devices, enforce user-phone instead (compare its surplus in scan).`;
  }
  return `${figures} ${key.name} does not include the device, so it already treats a phone on another device as a duplicate.`;
}

/**
 * Question 3 answered with a retry policy of `sql upsert` and the command
 * that prints its statement: fill when later copies bring values the first
 * lacked (it keeps them and never overwrites), skip when they bring nothing
 * new (overwrite named for when the newest values should win).
 */
export function retryAnswer(
  report: Pick<Figures, 'groups' | 'laterCopiesAddData' | 'columnsThatDiffer' | 'groupsWithAddedData' | 'groupsThatDiffer'>,
  key: ResolvedKey,
  commandLine?: CommandLineContext,
): string {
  const groups = report.groups;
  const command = (policy: string) => keyCommand(key, ['sql', 'upsert'], ['--on-duplicate', policy], commandLine);
  const filled = report.laterCopiesAddData.filter((c) => c.groups > 0).sort((a, b) => b.groups - a.groups);
  const differ = report.columnsThatDiffer.filter((c) => c.groups > 0).sort((a, b) => b.groups - a.groups);
  const list = (items: { column: string; groups: number }[]) =>
    items
      .slice(0, 3)
      .map((c) => `${c.column} in ${count(c.groups)}`)
      .join(', ');
  if (report.groupsWithAddedData > 0) {
    return (
      `In ${count(report.groupsWithAddedData)} of ${count(groups)} groups (${percent(report.groupsWithAddedData, groups)}) a later copy fills a value the first copy lacked (${list(filled)}), ` +
      `and in ${count(report.groupsThatDiffer)} groups a later copy differs in some column. Retry policy fill keeps that data: a retry sets only the columns the stored lead lacks, ` +
      `and a NULL never erases a value (skip would lose it): ${command('fill')}`
    );
  }
  if (report.groupsThatDiffer > 0) {
    return (
      `No later copy fills a value the first copy lacked, but in ${count(report.groupsThatDiffer)} of ${count(groups)} groups (${percent(report.groupsThatDiffer, groups)}) a later copy differs (${list(differ)}). ` +
      `Retry policy skip keeps the first copy's values and loses no missing data: ${command('skip')}; if the newest values should win, overwrite (a NULL still never erases): ${command('overwrite')}`
    );
  }
  return `In all ${count(groups)} groups the later copies are identical to the first: retry policy skip loses nothing: ${command('skip')}`;
}

function concurrency(report: Figures): string {
  const { cause, surplus, trend } = report;
  const race = formatWindow(cause.raceWindowMs);
  const retry = formatWindow(cause.retryWindowMs);
  const rest =
    `${count(cause.retry)} (${percent(cause.retry, surplus)}) came within ${retry} (retries) and ${count(cause.resubmission)} (${percent(cause.resubmission, surplus)}) later (people submitting again)` +
    (cause.unknown > 0 ? `; ${count(cause.unknown)} have no created time.` : '.');
  // "The last 7 days" is read as "from now": count back from the server's clock, and from the newest lead only as a second figure when the data is older.
  const upToNewest =
    trend.last7d > 0
      ? `; the 7 days up to the newest lead (${trend.newestCreatedAt}) hold ${count(trend.last7d)} (${count(trend.last24h)} in its last 24 hours)`
      : '';
  const still =
    trend.last7dBeforeNow > 0
      ? ` Duplicates are still being created: ${count(trend.last7dBeforeNow)} in the 7 days before now (${count(trend.last24hBeforeNow)} in the last 24 hours; server clock ${trend.serverNow}), the latest at ${trend.lastDuplicateAt}.`
      : trend.lastDuplicateAt === null
        ? ''
        : ` None in the 7 days before now (server clock ${trend.serverNow}); the latest duplicate was created at ${trend.lastDuplicateAt}${upToNewest}.`;
  if (cause.race > 0) {
    const verdict = cause.race / surplus >= 0.5 ? 'concurrent webhook calls' : 'some webhook calls run concurrently';
    return (
      `${percent(cause.race, surplus)} of the ${count(surplus)} surplus rows (${count(cause.race)}) were created within ${race} of the previous copy: ${verdict}. ` +
      `A unique constraint plus INSERT … ON CONFLICT is required; an application-level check cannot prevent this. ${rest}${still}`
    );
  }
  return `No duplicate was created within ${race} of the previous copy: no sign of concurrent calls. ${rest} An application-level check would catch these, but only a unique constraint guarantees it.${still}`;
}
