/** Logs go to stderr so that stdout carries only results (tables or `--json -`). */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** Where text goes: process.stdout / process.stderr, or a test's buffer. */
export interface TextSink {
  write(text: string): unknown;
  /** A terminal (progress bars are drawn only there). */
  isTTY?: boolean;
}

export function streamLogger(stream: TextSink, verbose: boolean): Logger {
  return {
    warn: (m) => stream.write(`warning: ${m}\n`),
    info: (m) => stream.write(`${m}\n`),
    debug: (m) => {
      if (verbose) stream.write(`${m}\n`);
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
