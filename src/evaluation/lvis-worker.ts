/** One thread's share of an LVIS evaluation (lvis-threads.ts): its categories' curves, sent back. */
import { parentPort } from "node:worker_threads";
import { evaluateCategories } from "../metrics/lvis/evaluate.js";
import type { LvisWorkerData } from "./lvis-threads.js";

parentPort?.once("message", ({ gt, dets, selection, iouType, share }: LvisWorkerData) => {
  const curves = evaluateCategories(gt, dets, selection, iouType, share);
  // The curves' arrays move to the main thread rather than being copied.
  // (Curves share their buffers: each goes in once.)
  const buffers = new Set(curves.flatMap((c) => c?.byArea.flatMap((a) => (a ? [a.precision.buffer, a.recall.buffer] : [])) ?? []));
  parentPort!.postMessage(curves, [...buffers] as ArrayBuffer[]);
});
