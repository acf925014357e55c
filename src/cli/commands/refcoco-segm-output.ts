/**
 * `eval refcoco --iou-type segm`'s results: the keys each reference prints (LAVT's `mIoU`, `oIoU`,
 * `prec@0.5`; CRIS's `IoU`, `Pr@50`; ReLA's `gIoU`, `cIoU`, `N-acc`, `T-acc`), as fractions in
 * `--json`, in percent in the table.
 */
import { formatTable, percent } from "../../core/table.js";
import type { EvalRefcocoSegmReport } from "../../evaluation/refcoco-segm.js";
import type { ResDatasetScores, ResVariant } from "../../metrics/refexp-segm.js";

/** The variant's own keys and values for one dataset, in the order its reference prints them. */
function variantKeys(variant: ResVariant, row: ResDatasetScores): [string, number][] {
  if (variant === "cris") return [["IoU", row.meanIoU], ...row.precision.map(({ percent: p, fraction }) => [`Pr@${p}`, fraction] as [string, number])];
  return [["mIoU", row.meanIoU], ["oIoU", row.overallIoU!], ...row.precision.map(({ percent: p, fraction }) => [`prec@${p / 100}`, fraction] as [string, number])];
}

function generalizedKeys(row: ResDatasetScores): [string, number][] {
  const g = row.generalized;
  return g ? [["gIoU", g.gIoU], ["cIoU", g.cIoU], ["N-acc", g.nAcc], ["T-acc", g.tAcc]] : [];
}

export function refcocoSegmJson(report: EvalRefcocoSegmReport): Record<string, Record<string, number>> {
  return Object.fromEntries(report.rows.map((row) => [row.dataset, { ...Object.fromEntries([...variantKeys(report.variant, row), ...generalizedKeys(row)]), count: row.count }]));
}

export function refcocoSegmProtocol(report: Pick<EvalRefcocoSegmReport, "variant" | "noTarget">): string {
  const main =
    report.variant === "cris"
      ? "Referring-expression segmentation, CRIS's rule: IoU = I / (U + 1e-6) per expression, IoU = its mean, Pr@X = IoU > X against float32 thresholds (CRIS.pytorch engine/engine.py)"
      : "Referring-expression segmentation: mIoU, oIoU = sum I / sum U, prec@X = IoU >= X (LAVT-RIS test.py)";
  return report.noTarget > 0 ? `${main}; gIoU, cIoU, N-acc, T-acc (ReLA), an empty mask predicting no target` : main;
}

export function refcocoSegmTable(report: EvalRefcocoSegmReport): string {
  const first = report.rows[0];
  const keys = first ? variantKeys(report.variant, first).map(([key]) => key) : [];
  const generalized = report.rows.some((row) => row.generalized);
  const header = ["dataset", ...keys.map((key) => `${key} %`), ...(generalized ? ["gIoU %", "cIoU %", "N-acc %", "T-acc %"] : []), "count"];
  const rows = report.rows.map((row) => {
    const extra = generalized ? (row.generalized ? generalizedKeys(row).map(([, v]) => percent(v)) : ["-", "-", "-", "-"]) : [];
    return [row.dataset, ...variantKeys(report.variant, row).map(([, v]) => percent(v)), ...extra, String(row.count)];
  });
  const missing = report.missing ? ` (${report.missing} expressions without predictions counted as empty masks)` : "";
  return `${refcocoSegmProtocol(report)}${missing}\n${formatTable(header, rows)}`;
}
