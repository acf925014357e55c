/**
 * `npm run bench -- lvis-segm [--images 1000] [--dets-per-image 300]`: LVIS mask AP on an
 * LVIS-shaped case: 640 x 480 images, 1,203 categories (LVIS's r/c/f split), about 12 polygon
 * annotations per image (blobs of 12-30 vertices, some in two parts), and per image 300 detections
 * as compressed RLEs (half of them jittered copies of a ground-truth blob). Times `mdetr eval lvis
 * --iou-type segm` in both protocols against the floor: JSON.parse of the same two files.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { rleFromPolygon } from "../src/compat/coco-mask/polygon.js";
import { mergeRles } from "../src/compat/coco-mask/rle.js";
import { rleToString } from "../src/compat/coco-mask/rle-string.js";
import { measureCli, mib, parseFloor, printMeasurement, seededRandom, withBenchDir, writeStreamed } from "./support.js";

const CATEGORIES = 1203;
const W = 640;
const H = 480;
const round2 = (x: number) => Math.round(x * 100) / 100;

interface Blob {
  category: number;
  cx: number;
  cy: number;
  radius: number;
  parts: number;
}

/** A star-shaped blob around (cx, cy): `vertices` points at jittered radii. */
function blobPolygon(blob: Blob, random: () => number, jitter: number): number[] {
  const vertices = 12 + Math.floor(random() * 19);
  const points: number[] = [];
  for (let k = 0; k < vertices; k++) {
    const angle = (2 * Math.PI * k) / vertices;
    const r = blob.radius * (0.6 + 0.4 * random()) + jitter * (random() - 0.5);
    points.push(round2(Math.min(W, Math.max(0, blob.cx + jitter * (random() - 0.5) + r * Math.cos(angle)))), round2(Math.min(H, Math.max(0, blob.cy + r * Math.sin(angle)))));
  }
  return points;
}

function randomBlob(random: () => number): Blob {
  return { category: 1 + Math.floor(random() ** 2 * CATEGORIES), cx: random() * W, cy: random() * H, radius: 4 + random() ** 2 * 120, parts: random() < 0.15 ? 2 : 1 };
}

function* groundTruthParts(images: number, random: () => number, blobs: Blob[][]): Generator<string> {
  yield '{"info":{},"licenses":[],"categories":[';
  for (let c = 1; c <= CATEGORIES; c++) yield (c > 1 ? "," : "") + JSON.stringify({ id: c, name: `category_${c}`, frequency: c <= 337 ? "r" : c <= 798 ? "c" : "f" });
  yield '],"annotations":[';
  let id = 0;
  for (let i = 0; i < images; i++) {
    const own: Blob[] = [];
    for (let a = 2 + Math.floor(random() * 20); a > 0; a--) {
      const blob = randomBlob(random);
      own.push(blob);
      const segmentation = Array.from({ length: blob.parts }, (_, p) => blobPolygon({ ...blob, cx: blob.cx + p * blob.radius }, random, 0));
      const r = blob.radius;
      const bbox = [round2(Math.max(0, blob.cx - r)), round2(Math.max(0, blob.cy - r)), round2(2 * r), round2(2 * r)];
      yield (id ? "," : "") + JSON.stringify({ id: ++id, image_id: i + 1, category_id: blob.category, bbox, area: round2(Math.PI * r * r * 0.64), segmentation });
    }
    blobs.push(own);
  }
  yield '],"images":[';
  const pick = () => 1 + Math.floor(random() ** 2 * CATEGORIES);
  for (let i = 0; i < images; i++) {
    const negative = [...new Set(Array.from({ length: 3 + Math.floor(random() * 8) }, pick))];
    yield (i ? "," : "") + JSON.stringify({ id: i + 1, width: W, height: H, neg_category_ids: negative, not_exhaustive_category_ids: random() < 0.3 ? [pick()] : [] });
  }
  yield "]}";
}

function* detectionParts(blobs: Blob[][], perImage: number, random: () => number): Generator<string> {
  yield "[";
  for (let i = 0; i < blobs.length; i++) {
    const own = blobs[i]!;
    const parts: string[] = [];
    for (let d = 0; d < perImage; d++) {
      const near = own.length > 0 && random() < 0.5;
      const blob = near ? { ...own[Math.floor(random() * own.length)]!, parts: 1 } : randomBlob(random);
      const category = near && random() < 0.8 ? blob.category : 1 + Math.floor(random() ** 2 * CATEGORIES);
      const rle = mergeRles([rleFromPolygon(blobPolygon(blob, random, near ? 6 : 0), H, W)], false);
      parts.push(JSON.stringify({ image_id: i + 1, category_id: category, segmentation: { size: [H, W], counts: rleToString(rle.counts) }, score: Math.round(random() * 1e5) / 1e5 }));
    }
    yield (i ? "," : "") + parts.join(",");
  }
  yield "]";
}

export async function benchLvisSegm(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { images: { type: "string", default: "1000" }, "dets-per-image": { type: "string", default: "300" }, keep: { type: "boolean", default: false } } });
  const images = Number(values.images);
  const perImage = Number(values["dets-per-image"]);
  await withBenchDir("lvis-segm", values.keep, async (dir) => {
    const random = seededRandom(12);
    const gtFile = join(dir, "gt.json");
    const detsFile = join(dir, "dets.json");
    process.stderr.write(`generating ${images} images, ${images * perImage} mask detections in ${dir} ...\n`);
    const blobs: Blob[][] = [];
    await writeStreamed(gtFile, groundTruthParts(images, random, blobs));
    await writeStreamed(detsFile, detectionParts(blobs, perImage, random));
    const floor = await parseFloor([gtFile, detsFile], dir);
    console.log(`lvis-segm: ${images} images, ${CATEGORIES} categories, ${blobs.flat().length} polygon annotations, ${images * perImage} compressed-RLE detections; ground truth ${mib(statSync(gtFile).size)}, detections ${mib(statSync(detsFile).size)}`);
    console.log(`  floor: JSON.parse of both files ${floor.toFixed(2)} s (reference on this machine: lvis-api 60 s standard, large-vocab-devil 90 s fixed)`);
    for (const protocol of ["standard", "fixed"]) {
      const m = await measureCli(["eval", "lvis", "--iou-type", "segm", "--annotations", gtFile, "--predictions", detsFile, "--ap", protocol, "--json", join(dir, "out.json")]);
      printMeasurement(`--ap ${protocol}`, m, dir, /\(\d+\.\d+ s\)$/, `, ${(m.seconds / floor).toFixed(2)}x the floor`);
    }
  });
}
