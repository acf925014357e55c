/**
 * LVIS evaluation on several threads: categories are independent once the detections are
 * selected, so each thread takes every n-th category (evaluateCategories) and the shares are joined
 * before summarizing. The workers are started before the files are read, so that their start-up
 * (a Node isolate, the metric modules) happens while this thread reads; the detection columns
 * live in shared memory (readDetections), so handing them over copies nothing.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CategoryCurves } from "../metrics/lvis/category.js";
import type { DetectionColumns, IouType, LvisGroundTruthColumns } from "../metrics/lvis/columns.js";
import { evaluateCategories, joinShares, summarizeLvis, type CategoryShare, type LvisEvaluation } from "../metrics/lvis/evaluate.js";
import type { Selection } from "../metrics/lvis/select.js";

/** What a worker is sent (lvis-worker.ts). */
export interface LvisWorkerData {
  gt: LvisGroundTruthColumns;
  dets: DetectionColumns;
  selection: Selection;
  iouType: IouType;
  share: CategoryShare;
}

/**
 * "auto": two threads for boxes where there are two cores and the results are big (256 MiB and
 * more: 10 M detections in 830 MiB, evaluation 9.1 s on one thread, 7.8 s on two, for 85 MB
 * more). Below that the second thread gains nothing on this 2-core machine (1.5 M detections in
 * 124 MiB: 1.2-1.4 s on either, 30 MB more on two): threads of one process that allocate slow
 * each other down here, and each repeats the selection. One for masks, whose packed RLEs would be
 * copied to each thread. `--threads N` decides otherwise; the numbers are the same on any count
 * (tested).
 */
export function threadsFor(requested: number | "auto", iouType: IouType, predictionBytes: number): number {
  if (requested !== "auto") return requested;
  return iouType === "bbox" && predictionBytes >= AUTO_THREADS_BYTES ? Math.min(2, availableParallelism()) : 1;
}

const AUTO_THREADS_BYTES = 256 << 20;

interface Helper {
  worker: Worker;
  answer: Promise<(CategoryCurves | undefined)[]>;
}

/** Worker threads started ahead of the evaluation, each waiting for its share. */
export class LvisEvaluationThreads {
  private readonly helpers: Helper[];

  constructor(threads: number) {
    this.helpers = Array.from({ length: Math.max(1, threads) - 1 }, () => {
      // A smaller young generation than V8's default: the same speed, 25 MB less at the peak
      // (bench lvis), which is mostly this thread's garbage waiting for a scavenge.
      const worker = new Worker(new URL("./lvis-worker.js", import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
      const answer = new Promise<(CategoryCurves | undefined)[]>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`an evaluation thread stopped (exit code ${code}) before answering`)));
      });
      // A run that fails before the evaluation closes the threads unasked: not an unhandled failure.
      answer.catch(() => {});
      return { worker, answer };
    });
  }

  get count(): number {
    return this.helpers.length + 1;
  }

  async evaluate(gt: LvisGroundTruthColumns, dets: DetectionColumns, selection: Selection, iouType: IouType): Promise<LvisEvaluation> {
    const parts = this.count;
    this.helpers.forEach(({ worker }, k) => {
      const data: LvisWorkerData = { gt, dets, selection, iouType, share: { part: k + 1, parts } };
      worker.postMessage(data);
    });
    // This thread takes share 0 while the workers take theirs.
    const mine = evaluateCategories(gt, dets, selection, iouType, { part: 0, parts });
    const theirs = await Promise.all(this.helpers.map((h) => h.answer));
    // The helpers' heaps are let go before the summary, the run's last and highest point of memory.
    await this.close();
    return summarizeLvis(gt, joinShares([mine, ...theirs]), selection);
  }

  async close(): Promise<void> {
    await Promise.all(this.helpers.map(({ worker }) => worker.terminate()));
  }
}
