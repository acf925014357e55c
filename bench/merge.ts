/**
 * `npm run bench -- merge [--images N]`: generates an MDETR-scale pre-training input (default
 * 100k images with 1-200 datapoints each, about 1 M datapoints, in two files: coco- and
 * vg-sourced) and times `mdetr merge-annotations` on it in both modes.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureCli, mib, printMeasurement, seededRandom, writeStreamed } from "./support.js";

const WORDS = ["man", "woman", "red", "car", "left", "dog", "half-eaten", "sandwich", "table", "white", "two-story", "bus", "near", "the", "a", "on", "tall", "tree", "sky", "blue"];

function caption(random: () => number): string {
  const words = Array.from({ length: 2 + Math.floor(random() * 12) }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  const text = words.join(" ");
  return random() < 0.3 ? `${text}.` : random() < 0.1 ? `is ${text}?` : text;
}

/** Datapoints per image: 1 to 200, heavy-tailed with a mean near 10. */
function datapointsPerImage(random: () => number): number {
  return 1 + Math.floor(199 * random() ** 21);
}

function* datasetParts(images: number, source: "coco" | "vg", firstOriginalId: number, random: () => number, counts: { datapoints: number }): Generator<string> {
  const annotations: string[] = [];
  yield '{"images":[';
  let id = 0;
  let annotationId = 0;
  for (let img = 0; img < images; img++) {
    const originalId = firstOriginalId + img;
    const [width, height] = random() < 0.5 ? [640, 480] : [500, 375];
    for (let d = datapointsPerImage(random); d > 0; d--, id++) {
      const text = caption(random);
      const image = { id, file_name: source === "coco" ? `COCO_train2014_${String(originalId).padStart(12, "0")}.jpg` : `${originalId}.jpg`, height, width, caption: text, tokens_negative: [[0, text.length]], original_id: originalId, data_source: source, dataset_name: source === "coco" ? "refcoco" : "vg" };
      yield (id ? "," : "") + JSON.stringify(image);
      for (let b = 1 + Math.floor(random() * 3); b > 0; b--) {
        const w = Math.round((10 + random() * 200) * 100) / 100;
        const h = Math.round((10 + random() * 200) * 100) / 100;
        const box = [Math.round(random() * (width - w) * 100) / 100, Math.round(random() * (height - h) * 100) / 100, w, h];
        const begin = Math.floor(random() * text.length);
        annotations.push(JSON.stringify({ id: annotationId++, image_id: id, bbox: box, area: Math.round(w * h * 100) / 100, iscrowd: 0, category_id: 1 + Math.floor(random() * 80), tokens_positive: [[begin, Math.min(text.length, begin + 3 + Math.floor(random() * 10))]] }));
      }
    }
  }
  counts.datapoints += id;
  yield '],"annotations":[';
  // Annotations follow all images, so they wait in memory as strings; yield them in slices.
  for (let i = 0; i < annotations.length; i += 10000) yield (i ? "," : "") + annotations.slice(i, i + 10000).join(",");
  yield "]}";
}

export async function benchMerge(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { keep: { type: "boolean", default: false }, images: { type: "string", default: "100000" } } });
  const images = Number(values.images);
  const dir = mkdtempSync(join(tmpdir(), "mdetr-bench-merge-"));
  try {
    const random = seededRandom(7);
    const counts = { datapoints: 0 };
    process.stderr.write(`generating ${images} images in ${dir} ...\n`);
    const coco = join(dir, "coco.json");
    const vg = join(dir, "vg.json");
    await writeStreamed(coco, datasetParts(Math.round(images * 0.4), "coco", 1, random, counts));
    await writeStreamed(vg, datasetParts(images - Math.round(images * 0.4), "vg", 1, random, counts));
    console.log(`merge: ${images} images, ${counts.datapoints} datapoints; inputs ${mib(statSync(coco).size)} + ${mib(statSync(vg).size)}`);
    for (const mode of [[], ["--mdetr-compat"]]) {
      const out = join(dir, "mixed.json");
      const m = await measureCli(["merge-annotations", coco, vg, "-o", out, ...mode]);
      printMeasurement(mode.length ? "--mdetr-compat" : "default (giou, strict)", m, dir, /\(\d+\.\d+ s\)$|^merged/, `, output ${mib(statSync(out).size)}`);
    }
  } finally {
    if (values.keep) console.log(`  data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
