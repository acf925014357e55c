/**
 * `npm run bench -- refcoco-segm [--expressions N] [--instances-images N] [--keep]`: generates a
 * RefCOCO segmentation evaluation as the reference timing had it (5,000 expressions: MDETR's
 * annotations, a COCO instances file with COCO-like polygons on 640x480-ish images, two
 * compressed-RLE predictions per expression) and times `mdetr eval refcoco --iou-type segm` on
 * it, against JSON.parse of the same files. `--instances-images 82783` pads the instances file to
 * instances_train2014.json's size (about 450 MB), most of it annotations nobody refers to.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { rleFromPolygon } from "../src/compat/coco-mask/polygon.js";
import { mergeRles } from "../src/compat/coco-mask/rle.js";
import { rleToString } from "../src/compat/coco-mask/rle-string.js";
import { measureCli, mib, parseFloor, printMeasurement, seededRandom, withBenchDir, writeStreamed } from "./support.js";

const DATASETS = ["refcoco", "refcoco+", "refcocog"];
/** Expressions per picture and annotations per picture in the instances file (COCO has about 7). */
const EXPRESSIONS_PER_PICTURE = 4;
const ANNOTATIONS_PER_PICTURE = 8;

const round2 = (x: number) => Math.round(x * 100) / 100;

interface Picture {
  id: number;
  height: number;
  width: number;
}

/** A COCO-like object outline: 1 to 3 parts, each a jittered ellipse of 12 to 40 points. */
function polygon(p: Picture, random: () => number, centre?: [number, number, number]): number[][] {
  const [cx, cy, r] = centre ?? [random() * p.width, random() * p.height, 8 + random() * random() * 180];
  const parts = random() < 0.15 ? 2 + Math.floor(random() * 2) : 1;
  return Array.from({ length: parts }, (_, k) => {
    const points = 12 + Math.floor(random() * 29);
    const ox = cx + k * r * 0.9;
    const out: number[] = [];
    for (let j = 0; j < points; j++) {
      const angle = (2 * Math.PI * j) / points;
      const radius = r * (0.7 + 0.5 * random()) / (k + 1);
      out.push(round2(Math.min(p.width, Math.max(0, ox + radius * Math.cos(angle)))), round2(Math.min(p.height, Math.max(0, cy + radius * 0.8 * Math.sin(angle)))));
    }
    return out;
  });
}

interface Generated {
  pictures: Picture[];
  /** Per picture, its annotations' polygons (ids 1_000_000 + picture * 8 + k). */
  polygons: number[][][][];
}

function generate(pictureCount: number, random: () => number): Generated {
  const pictures = Array.from({ length: pictureCount }, (_, i) => ({ id: 100000 + i, height: 360 + Math.floor(random() * 281), width: 480 + Math.floor(random() * 161) }));
  return { pictures, polygons: pictures.map((p) => Array.from({ length: ANNOTATIONS_PER_PICTURE }, () => polygon(p, random))) };
}

const annotationId = (picture: number, k: number) => 1_000_000 + picture * ANNOTATIONS_PER_PICTURE + k;

function* instancesParts(g: Generated, padImages: number, random: () => number): Generator<string> {
  yield '{"info":{"description":"synthetic COCO instances"},"images":[';
  const total = Math.max(padImages, g.pictures.length);
  const all = (i: number): Picture => g.pictures[i] ?? { id: 100000 + i, height: 480, width: 640 };
  for (let i = 0; i < total; i++) yield (i ? "," : "") + JSON.stringify({ license: 1, file_name: `COCO_train2014_${String(all(i).id).padStart(12, "0")}.jpg`, height: all(i).height, width: all(i).width, id: all(i).id });
  yield '],"annotations":[';
  let first = true;
  for (let i = 0; i < total; i++) {
    const p = all(i);
    for (let k = 0; k < ANNOTATIONS_PER_PICTURE; k++) {
      const segmentation = g.polygons[i]?.[k] ?? polygon(p, random);
      const xs = segmentation.flat().filter((_, j) => j % 2 === 0);
      const ys = segmentation.flat().filter((_, j) => j % 2 === 1);
      const bbox = [Math.min(...xs), Math.min(...ys), round2(Math.max(...xs) - Math.min(...xs)), round2(Math.max(...ys) - Math.min(...ys))];
      yield (first ? "" : ",") + JSON.stringify({ segmentation, area: round2(bbox[2]! * bbox[3]! * 0.6), iscrowd: 0, image_id: p.id, bbox, category_id: 1 + k, id: annotationId(i, k) });
      first = false;
    }
  }
  yield '],"categories":[{"supercategory":"thing","id":1,"name":"thing"}]}';
}

function* annotationParts(g: Generated, expressions: number): Generator<string> {
  yield '{"images":[';
  for (let e = 0; e < expressions; e++) {
    const i = Math.floor(e / EXPRESSIONS_PER_PICTURE);
    const p = g.pictures[i]!;
    yield (e ? "," : "") + JSON.stringify({ file_name: `COCO_train2014_${String(p.id).padStart(12, "0")}.jpg`, height: p.height, width: p.width, id: e, original_id: p.id, caption: "the man on the left", dataset_name: DATASETS[e % 3], tokens_negative: [[0, 3]] });
  }
  yield '],"annotations":[';
  for (let e = 0; e < expressions; e++) {
    const i = Math.floor(e / EXPRESSIONS_PER_PICTURE);
    yield (e ? "," : "") + JSON.stringify({ area: 1000, iscrowd: 0, image_id: e, category_id: 1, id: e, bbox: [0, 0, 10, 10], original_id: annotationId(i, e % EXPRESSIONS_PER_PICTURE), tokens_positive: [[4, 7]] });
  }
  yield '],"categories":[]}';
}

/** Two predictions per expression: a mask near the target (a shifted outline) and another one. */
function* predictionParts(g: Generated, expressions: number, random: () => number): Generator<string> {
  yield "[";
  let first = true;
  for (let e = 0; e < expressions; e++) {
    const i = Math.floor(e / EXPRESSIONS_PER_PICTURE);
    const p = g.pictures[i]!;
    const target = g.polygons[i]![e % EXPRESSIONS_PER_PICTURE]!;
    const shift = (part: number[]) => part.map((v, j) => round2(v + (j % 2 ? 1 : -1) * random() * 12));
    for (const segmentation of [target.map(shift), polygon(p, random)]) {
      const rle = mergeRles(segmentation.map((part) => rleFromPolygon(part, p.height, p.width)), false);
      yield (first ? "" : ",") + JSON.stringify({ image_id: e, category_id: 1, segmentation: { size: [p.height, p.width], counts: rleToString(rle.counts) }, score: Math.round(random() * 1e6) / 1e6 });
      first = false;
    }
  }
  yield "]";
}

export async function benchRefcocoSegm(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { keep: { type: "boolean", default: false }, expressions: { type: "string", default: "5000" }, "instances-images": { type: "string", default: "0" } } });
  const expressions = Number(values.expressions);
  const pictures = Math.ceil(expressions / EXPRESSIONS_PER_PICTURE);
  await withBenchDir("refcoco-segm", values.keep, async (dir) => {
    const random = seededRandom(2025);
    const g = generate(pictures, random);
    const ann = join(dir, "finetune_refcoco_val.json");
    const instances = join(dir, "instances_train2014.json");
    const pred = join(dir, "masks.json");
    process.stderr.write(`generating ${expressions} expressions on ${pictures} pictures in ${dir} ...\n`);
    await writeStreamed(ann, annotationParts(g, expressions));
    await writeStreamed(instances, instancesParts(g, Number(values["instances-images"]), random));
    await writeStreamed(pred, predictionParts(g, expressions, random));
    const files = [ann, instances, pred];
    const floor = await parseFloor(files, dir);
    const sizes = files.map((f) => mib(statSync(f).size));
    console.log(`refcoco-segm: ${expressions} expressions, ${2 * expressions} compressed-RLE predictions; annotations ${sizes[0]}, instances ${sizes[1]}, predictions ${sizes[2]}`);
    console.log(`  floor: JSON.parse of the three files ${floor.toFixed(2)} s`);
    for (const variant of ["lavt", "cris"]) {
      const m = await measureCli(["eval", "refcoco", "--iou-type", "segm", "--annotations", ann, "--instances", instances, "--predictions", pred, "--metric-variant", variant, "--json", join(dir, "out.json")]);
      printMeasurement(`--metric-variant ${variant}`, m, dir, /\(\d+\.\d+ s\)$/, `, ${(m.seconds / floor).toFixed(2)}x JSON.parse`);
    }
  });
}
