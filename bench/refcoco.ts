/**
 * `npm run bench -- refcoco [--expressions N] [--boxes N] [--format dict|list] [--numbers short|float32]`: generates an
 * MDETR-shaped RefCOCO evaluation (default 100k expressions x 100 boxes, MDETR's dict format) in a
 * temporary folder and times `mdetr eval refcoco` on it in both match modes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureCli, mib, numberStyle, parseFloor, predicted, printMeasurement, seededRandom, writeStreamed, type NumberStyle } from "./support.js";

const DATASETS = ["refcoco", "refcoco+", "refcocog"];

function* annotationParts(expressions: number, random: () => number): Generator<string> {
  yield '{"images":[';
  for (let e = 0; e < expressions; e++) {
    const image = { file_name: `COCO_train2014_${String(e >> 2).padStart(12, "0")}.jpg`, height: 480, width: 640, id: e, original_id: e >> 2, caption: "the man on the left", dataset_name: DATASETS[e % 3], tokens_negative: [[0, 19]] };
    yield (e ? "," : "") + JSON.stringify(image);
  }
  yield '],"annotations":[';
  for (let e = 0; e < expressions; e++) {
    const box = [round2(random() * 500), round2(random() * 350), round2(20 + random() * 120), round2(20 + random() * 120)];
    yield (e ? "," : "") + JSON.stringify({ id: e, image_id: e, bbox: box, category_id: 1, area: box[2]! * box[3]!, iscrowd: 0, tokens_positive: [[0, 7]] });
  }
  yield '],"categories":[]}';
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function* predictionParts(expressions: number, boxes: number, format: "dict" | "list", random: () => number, numbers: NumberStyle): Generator<string> {
  yield format === "dict" ? "{" : "[";
  for (let e = 0; e < expressions; e++) {
    const xyxy: number[][] = [];
    const scores: number[] = [];
    for (let b = 0; b < boxes; b++) {
      const x = random() * 560;
      const y = random() * 400;
      xyxy.push([predicted(numbers, x, 2), predicted(numbers, y, 2), predicted(numbers, x + 10 + random() * 150, 2), predicted(numbers, y + 10 + random() * 150, 2)]);
      scores.push(predicted(numbers, random(), 6));
    }
    if (format === "dict") {
      yield `${e ? "," : ""}"${e}":${JSON.stringify({ boxes: xyxy, scores })}`;
    } else {
      yield (e ? "," : "") + xyxy.map((b, i) => JSON.stringify({ image_id: e, category_id: 1, bbox: [b[0], b[1], predicted(numbers, b[2]! - b[0]!, 2), predicted(numbers, b[3]! - b[1]!, 2)], score: scores[i] })).join(",");
    }
  }
  yield format === "dict" ? "}" : "]";
}

export async function benchRefcoco(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { keep: { type: "boolean", default: false }, expressions: { type: "string", default: "100000" }, boxes: { type: "string", default: "100" }, format: { type: "string", default: "dict" }, numbers: { type: "string", default: "short" } } });
  const numbers = numberStyle(values.numbers);
  const expressions = Number(values.expressions);
  const boxes = Number(values.boxes);
  const format = values.format === "list" ? "list" : "dict";
  const dir = mkdtempSync(join(tmpdir(), "mdetr-bench-refcoco-"));
  try {
    const random = seededRandom(2024);
    const annFile = join(dir, "ann.json");
    const predFile = join(dir, "pred.json");
    process.stderr.write(`generating ${expressions} expressions x ${boxes} boxes (${format}) in ${dir} ...\n`);
    const annBytes = await writeStreamed(annFile, annotationParts(expressions, random));
    const predBytes = await writeStreamed(predFile, predictionParts(expressions, boxes, format, random, numbers));
    console.log(`refcoco: ${expressions} expressions x ${boxes} boxes; annotations ${mib(annBytes)}, predictions ${mib(predBytes)} (${format}, ${numbers} numbers)`);
    // A results list over 512 MiB is past V8's longest string: no JSON.parse floor then.
    const floor = predBytes < 500 * 2 ** 20 ? await parseFloor([annFile, predFile], dir) : NaN;
    if (!Number.isNaN(floor)) console.log(`  floor: JSON.parse of both files ${floor.toFixed(2)} s`);
    for (const match of ["iou", "giou"]) {
      const m = await measureCli(["eval", "refcoco", "--annotations", annFile, "--predictions", predFile, "--match", match, "--json", join(dir, "out.json")]);
      printMeasurement(`--match ${match}`, m, dir, /\(\d+\.\d+ s\)$/, Number.isNaN(floor) ? "" : `, ${(m.seconds / floor).toFixed(2)}x the floor`);
    }
  } finally {
    if (values.keep) console.log(`  data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
