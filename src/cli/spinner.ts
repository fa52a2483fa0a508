export interface Spinner {
  update(text: string): void;
  stop(): void;
}

/**
 * An ora spinner on stderr, only where it can draw: a terminal at least one
 * column wide. ora divides by the width, so a 0×0 terminal (CI runners,
 * `script`) made it clear "Infinity" lines: megabytes of escape codes and a
 * process that never ended; a terminal resized to 0 columns stops it.
 * discardStdin is off: ora would put the terminal in raw mode, and Ctrl-C
 * would never become a SIGINT. Returns null where there is no spinner (cron,
 * pipes, a TERM=dumb terminal, --quiet); ora is loaded only when there is one.
 * Whether to draw is decided here, so ora is told to (isEnabled): left to
 * itself, ora draws nothing when CI is set in the environment (is-interactive),
 * even on a real terminal, and prints the first text once as a plain line,
 * so every later text (the lock holder the spinner names, the batch counts)
 * was dropped.
 */
export async function startSpinner(text: string, flags: { quiet?: boolean }): Promise<Spinner | null> {
  const stream = process.stderr;
  if (flags.quiet || !stream.isTTY || !(stream.columns > 0) || process.env.TERM === 'dumb') return null;
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream, discardStdin: false, isEnabled: true }).start();
  const stop = () => {
    stream.off('resize', onResize);
    spinner.stop();
  };
  const onResize = () => {
    if (!(stream.columns > 0)) stop();
  };
  stream.on('resize', onResize);
  return {
    update(next) {
      if (spinner.isSpinning) spinner.text = next;
    },
    stop,
  };
}
