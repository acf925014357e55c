/**
 * LVIS evaluation on several threads: categories are independent once the detections are
 * selected, so each thread takes every n-th category (evaluateCategories) and the shares are joined
 * before summarizing. The columns are copied to each worker once (a memcpy of typed arrays).
 */
import { Worker } from "node:worker_threads";
import type { CategoryCurves } from "../metrics/lvis/category.js";
import type { DetectionColumns, IouType, LvisGroundTruthColumns } from "../metrics/lvis/columns.js";
import { evaluateCategories, joinShares, summarizeLvis, type CategoryShare, type LvisEvaluation } from "../metrics/lvis/evaluate.js";
import type { Selection } from "../metrics/lvis/select.js";

/** What a worker is given (lvis-worker.ts). */
export interface LvisWorkerData {
  gt: LvisGroundTruthColumns;
  dets: DetectionColumns;
  selection: Selection;
  iouType: IouType;
  share: CategoryShare;
}

/**
 * "auto" is one thread: on the 2-vCPU machines this project is measured on, a second evaluation
 * thread gains nothing (bench lvis-segm: evaluation 0.9 s on one thread, 1.0 s on two; the two
 * vCPUs share one core's caches, and the evaluation is memory-bound). `--threads N` is there for
 * machines with real cores; the numbers are the same on any count (tested).
 */
export function threadsFor(requested: number | "auto"): number {
  return requested === "auto" ? 1 : requested;
}

export async function evaluateLvisThreaded(gt: LvisGroundTruthColumns, dets: DetectionColumns, selection: Selection, iouType: IouType, threads: number): Promise<LvisEvaluation> {
  const parts = Math.max(1, threads);
  const workers = Array.from({ length: parts - 1 }, (_, k) => {
    const workerData: LvisWorkerData = { gt, dets, selection, iouType, share: { part: k + 1, parts } };
    return new Worker(new URL("./lvis-worker.js", import.meta.url), { workerData });
  });
  try {
    const theirs = workers.map(shareOf);
    // This thread takes share 0 while the workers start and take theirs.
    const mine = evaluateCategories(gt, dets, selection, iouType, { part: 0, parts });
    return summarizeLvis(gt, joinShares([mine, ...(await Promise.all(theirs))]), selection);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function shareOf(worker: Worker): Promise<(CategoryCurves | undefined)[]> {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`an evaluation thread stopped (exit code ${code}) before answering`)));
  });
}
