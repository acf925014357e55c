/** Logs go to stderr so that stdout carries only results (tables or `--json -`). */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export function stderrLogger(verbose: boolean): Logger {
  return {
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    info: (m) => process.stderr.write(`${m}\n`),
    debug: (m) => {
      if (verbose) process.stderr.write(`${m}\n`);
    },
  };
}

/** Seconds since the last lap, for --verbose timing lines. */
export function stopwatch(): { lap(): string } {
  let last = performance.now();
  return {
    lap() {
      const now = performance.now();
      const text = `${((now - last) / 1000).toFixed(2)} s`;
      last = now;
      return text;
    },
  };
}
