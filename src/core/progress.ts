/** A progress bar on stderr, shown only when stderr is a terminal (never in pipes, logs or CI). */
import { createRequire } from "node:module";
import type cliProgressModule from "cli-progress";
import type { TextSink } from "./log.js";

export interface Progress {
  tick(amount?: number): void;
  stop(): void;
}

/** Makes the progress bars of one run. */
export type ProgressFactory = (label: string, total: number) => Progress;

const SILENT: Progress = { tick() {}, stop() {} };

export function progressBars(stream: TextSink): ProgressFactory {
  return (label, total) => {
    if (!stream.isTTY || total === 0) return SILENT;
    // Loaded only when a bar is drawn: it and its dependencies are a tenth of the CLI's start-up,
    // and most runs (pipes, logs, CI) draw none. (A CommonJS module: require is synchronous.)
    const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof cliProgressModule;
    const bar = new cliProgress.SingleBar(
      { stream: stream as NodeJS.WritableStream, format: `${label} [{bar}] {percentage}% {value}/{total} {rate}/s eta {eta_formatted}`, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    bar.start(total, 0, { rate: "0" });
    let done = 0;
    return {
      tick(amount = 1) {
        done += amount;
        // Redrawing costs; a few hundred updates are enough for a smooth bar.
        if (done === total || done % Math.max(1, Math.floor(total / 500)) === 0) {
          bar.update(done, { rate: (done / ((performance.now() - started) / 1000)).toFixed(1) });
        }
      },
      stop() {
        bar.stop();
      },
    };
  };
}
