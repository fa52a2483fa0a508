import { ExitCode } from '../errors.js';

/** The exit codes every command's --help ends with (README "Exit codes" says the same, in full). */
const MEANINGS: Record<ExitCode, string> = {
  [ExitCode.ok]: 'success (also: nothing to do)',
  [ExitCode.runtime]: 'runtime or database error; a run that stopped early (committed batches stay archived)',
  [ExitCode.usage]: 'usage or configuration error; nothing was changed',
  [ExitCode.duplicatesFound]: 'duplicates found (scan --fail-on-duplicates, or a key above scan --max-surplus; constraint add)',
  [ExitCode.lockHeld]: 'another run holds the table lock, or a lock timeout on the final ALTER',
  [ExitCode.interrupted]: 'stopped by SIGINT/SIGTERM (the run is marked interrupted)',
};

export const EXIT_CODES_HELP = `\nExit codes:\n${Object.entries(MEANINGS)
  .map(([code, meaning]) => `  ${code.padEnd(4)}${meaning}`)
  .join('\n')}\n`;
