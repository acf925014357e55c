/**
 * `npm run bench -- convert-lvis [--images 100170] [--full]`: an LVIS-v1-train-sized file (by
 * default 100,170 images, about 1.27 M annotations with polygon segmentations, 1,203 categories:
 * 337 r / 461 c / 405 f; about 1.1 GB), then `mdetr convert lvis` timed at 1% and 10% in LVIS
 * format and at 10% in MDETR format (`--full`: also every image in MDETR format, a ~0.5 GB
 * output). Floors: JSON.parse of the same file, and our reader alone (see measureFloor).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { measureCli, mib, printMeasurement, seededRandom, withBenchDir, writeStreamed } from "./support.js";

const CATEGORIES = 1203;
const RARE = 337;
const COMMON = 461;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Images per category: rare 1-10, common 11-100, frequent from 101 up, skewed (LVIS's shape). */
function imagesPerCategory(random: () => number, images: number): number[] {
  const scale = images / 100170;
  return Array.from({ length: CATEGORIES }, (_, c) => {
    if (c < RARE) return 1 + Math.floor(random() * 10);
    if (c < RARE + COMMON) return Math.max(1, Math.round((11 + Math.floor(random() * 90)) * Math.min(1, scale * 4)));
    return Math.max(1, Math.round((101 + 5300 * random() ** 2) * scale));
  });
}

function* lvisTrainParts(images: number, random: () => number): Generator<string> {
  const counts = imagesPerCategory(random, images);
  const onImage: number[][] = Array.from({ length: images }, () => []);
  counts.forEach((n, c) => {
    for (let k = 0; k < n; k++) onImage[Math.floor(random() * images)]!.push(c + 1);
  });
  const ids = Array.from({ length: images }, (_, i) => 9 + i * 5 + Math.floor(random() * 5));
  // LVIS puts annotations before images.
  yield '{"info":{"description":"LVIS v1 train-sized benchmark data","version":"1.0","year":2020},"annotations":[';
  let id = 0;
  for (let i = 0; i < images; i++) {
    const parts: string[] = [];
    for (const category of new Set(onImage[i])) {
      for (let a = 1 + Math.floor(random() * random() * 4); a > 0; a--) {
        const w = round2(2 + random() * 300);
        const h = round2(2 + random() * 300);
        const x = round2(random() * (640 - w));
        const y = round2(random() * (480 - h));
        const polygons = Array.from({ length: random() < 0.3 ? 2 : 1 }, () => Array.from({ length: 2 * (25 + Math.floor(random() * 36)) }, (_, k) => round2(k % 2 ? y + random() * h : x + random() * w)));
        parts.push(JSON.stringify({ area: round2(w * h * 0.6), id: ++id, segmentation: polygons, image_id: ids[i], bbox: [x, y, w, h], category_id: category }));
      }
    }
    if (parts.length) yield (id > parts.length ? "," : "") + parts.join(",");
  }
  yield '],"images":[';
  const pick = () => 1 + Math.floor(random() * CATEGORIES);
  for (let i = 0; i < images; i++) {
    const present = new Set(onImage[i]);
    const negatives = random() < 0.9 ? [...new Set(Array.from({ length: 1 + Math.floor(random() * 10) }, pick))].filter((c) => !present.has(c)) : [];
    const notExhaustive = present.size && random() < 0.3 ? [[...present][0]!] : [];
    const url = `http://images.cocodataset.org/train2017/${String(ids[i]).padStart(12, "0")}.jpg`;
    yield (i ? "," : "") + JSON.stringify({ date_captured: "2013-11-14 11:18:45", neg_category_ids: negatives, id: ids[i], license: 1 + (i % 6), height: 480, width: 640, flickr_url: url.replace("images", "farm"), coco_url: url, not_exhaustive_category_ids: notExhaustive });
  }
  yield '],"licenses":[{"url":"http://creativecommons.org/licenses/by/2.0/","id":1,"name":"Attribution License"}],"categories":[';
  for (let c = 1; c <= CATEGORIES; c++) {
    const frequency = c <= RARE ? "r" : c <= RARE + COMMON ? "c" : "f";
    yield (c > 1 ? "," : "") + JSON.stringify({ name: `thing_${c}_(kind)`, instance_count: counts[c - 1]! * 2, def: "a thing", synonyms: [`thing_${c}`], image_count: counts[c - 1], id: c, frequency, synset: `thing_${c}.n.01` });
  }
  yield "]}";
}

/**
 * Floors, in a fresh process: "parse", the file read and JSON.parse'd element by element with
 * nothing kept (what any reader that parses the polygons pays); "read", our reader as the command
 * uses it (polygons checked, not parsed) with nothing done per element.
 */
async function measureFloor(file: string, dir: string, kind: "parse" | "read"): Promise<number> {
  const script = join(dir, `floor-${kind}.mjs`);
  const reader = resolve("dist/src/json/reader.js");
  const extras = kind === "read" ? '{ skip: { annotations: "segmentation" } }' : "{}";
  writeFileSync(script, `import { readJson } from ${JSON.stringify(reader)};\nconst t = performance.now();\nawait readJson(${JSON.stringify(file)}, { "$.images.*": () => {}, "$.annotations.*": () => {}, "$.categories.*": () => {} }, {}, ${extras});\nconsole.log((performance.now() - t) / 1000);\n`);
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  await once(child, "exit");
  return Number(out.trim());
}

export async function benchConvertLvis(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { images: { type: "string", default: "100170" }, full: { type: "boolean", default: false }, keep: { type: "boolean", default: false } } });
  const images = Number(values.images);
  await withBenchDir("convert-lvis", values.keep, async (dir) => {
    const file = join(dir, "lvis_v1_train.json");
    process.stderr.write(`generating ${images} images in ${dir} ...\n`);
    await writeStreamed(file, lvisTrainParts(images, seededRandom(11)));
    const parseFloor = await measureFloor(file, dir, "parse");
    const floor = await measureFloor(file, dir, "read");
    console.log(`convert-lvis: ${images} images, ${CATEGORIES} categories; ${mib(statSync(file).size)}`);
    console.log(`  floors: JSON.parse of every element ${parseFloor.toFixed(2)} s; our reader, polygons checked but not parsed, nothing kept ${floor.toFixed(2)} s`);
    const runs: [string, string[]][] = [
      ["1%, lvis format", ["--fraction", "0.01"]],
      ["10%, lvis format", ["--fraction", "0.1"]],
      ["10%, mdetr format", ["--fraction", "0.1", "--format", "mdetr"]],
      ...(values.full ? ([["100%, mdetr format", ["--format", "mdetr"]]] as [string, string[]][]) : []),
    ];
    for (const [label, options] of runs) {
      const out = join(dir, "out.json");
      let m: Awaited<ReturnType<typeof measureCli>>;
      try {
        m = await measureCli(["convert", "lvis", "--annotations", file, ...options, "-o", out]);
      } catch (error) {
        // A small file cannot give every category an image at 1%: MDETR's sampler fails there too.
        const reason = /mdetr: error: (.*)/.exec(String(error))?.[1] ?? String(error);
        console.log(`  ${label}: fails, as MDETR's sampler would: ${reason.replaceAll(dir + "/", "")}`);
        continue;
      }
      printMeasurement(label, m, dir, /\(\d+\.\d+ s\)$/, `, ${(m.seconds / floor).toFixed(2)}x the read floor, ${(m.seconds / parseFloor).toFixed(2)}x the parse floor, output ${mib(statSync(out).size)}`);
      rmSync(out);
    }
  });
}
