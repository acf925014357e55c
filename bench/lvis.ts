/**
 * `npm run bench -- lvis [--images 5000] [--dets-per-image 300] [--runs 3] [--numbers short|float32]`: an LVIS-shaped case (1,203
 * categories with LVIS's r/c/f split, about 12 annotations per image with polygon segmentations,
 * negative and not-exhaustive lists; 300 detections per image, many near ground truth) written
 * to temporary JSON files, then `mdetr eval lvis` timed in both protocols.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureCli, mib, numberStyle, parseFloors, predicted, printMeasurement, seededRandom, writeStreamed, type CliMeasurement, type NumberStyle } from "./support.js";

const CATEGORIES = 1203;
const round2 = (x: number) => Math.round(x * 100) / 100;

interface Box {
  category: number;
  bbox: [number, number, number, number];
}

function* groundTruthParts(images: number, random: () => number, boxes: Box[][]): Generator<string> {
  yield '{"info":{},"licenses":[],"categories":[';
  for (let c = 1; c <= CATEGORIES; c++) {
    const frequency = c <= 337 ? "r" : c <= 798 ? "c" : "f";
    yield (c > 1 ? "," : "") + JSON.stringify({ id: c, name: `category_${c}`, synset: `thing_${c}.n.01`, frequency, image_count: 1 });
  }
  yield '],"images":[';
  const pick = () => 1 + Math.floor(random() ** 2 * CATEGORIES);
  for (let i = 0; i < images; i++) {
    const negative = Array.from({ length: 3 + Math.floor(random() * 8) }, pick);
    const notExhaustive = random() < 0.3 ? [pick()] : [];
    yield (i ? "," : "") + JSON.stringify({ id: i + 1, width: 640, height: 480, file_name: `${i + 1}.jpg`, neg_category_ids: [...new Set(negative)], not_exhaustive_category_ids: notExhaustive });
  }
  yield '],"annotations":[';
  let id = 0;
  for (let i = 0; i < images; i++) {
    const own: Box[] = [];
    for (let a = 2 + Math.floor(random() * 20); a > 0; a--) {
      const w = round2(5 + random() * 200);
      const h = round2(5 + random() * 200);
      const box: Box = { category: 1 + Math.floor(random() ** 2 * CATEGORIES), bbox: [round2(random() * (640 - w)), round2(random() * (480 - h)), w, h] };
      own.push(box);
      const [x, y] = box.bbox;
      const polygon = Array.from({ length: 16 }, (_, k) => round2(k % 2 ? y + (h * (k % 5)) / 4 : x + (w * (k % 3)) / 2));
      yield (id ? "," : "") + JSON.stringify({ id: ++id, image_id: i + 1, category_id: box.category, bbox: box.bbox, area: round2(w * h * 0.7), segmentation: [polygon] });
    }
    boxes.push(own);
  }
  yield "]}";
}

function* detectionParts(boxes: Box[][], perImage: number, random: () => number, numbers: NumberStyle): Generator<string> {
  yield "[";
  let first = true;
  for (let i = 0; i < boxes.length; i++) {
    const own = boxes[i]!;
    const parts: string[] = [];
    for (let d = 0; d < perImage; d++) {
      let category: number;
      let bbox: number[];
      if (own.length && random() < 0.5) {
        const target = own[Math.floor(random() * own.length)]!;
        category = random() < 0.8 ? target.category : 1 + Math.floor(random() * CATEGORIES);
        bbox = target.bbox.map((v) => predicted(numbers, Math.max(0, v + (random() - 0.5) * 12), 2));
      } else {
        category = 1 + Math.floor(random() ** 2 * CATEGORIES);
        const w = 5 + random() * 200;
        const h = 5 + random() * 200;
        bbox = [predicted(numbers, random() * (640 - w), 2), predicted(numbers, random() * (480 - h), 2), predicted(numbers, w, 2), predicted(numbers, h, 2)];
      }
      parts.push(JSON.stringify({ image_id: i + 1, category_id: category, bbox, score: predicted(numbers, random(), 5) }));
    }
    yield (first ? "" : ",") + parts.join(",");
    first = false;
  }
  yield "]";
}

export async function benchLvis(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { images: { type: "string", default: "5000" }, "dets-per-image": { type: "string", default: "300" }, keep: { type: "boolean", default: false }, runs: { type: "string", default: "3" }, numbers: { type: "string", default: "short" } } });
  const numbers = numberStyle(values.numbers);
  const images = Number(values.images);
  const runs = Number(values.runs);
  const perImage = Number(values["dets-per-image"]);
  const dir = mkdtempSync(join(tmpdir(), "mdetr-bench-lvis-"));
  try {
    const random = seededRandom(5);
    const gtFile = join(dir, "gt.json");
    const detsFile = join(dir, "dets.json");
    process.stderr.write(`generating ${images} images, ${images * perImage} detections in ${dir} ...\n`);
    const boxes: Box[][] = [];
    await writeStreamed(gtFile, groundTruthParts(images, random, boxes));
    await writeStreamed(detsFile, detectionParts(boxes, perImage, random, numbers));
    console.log(`lvis: ${images} images, ${CATEGORIES} categories, ${boxes.flat().length} annotations, ${images * perImage} detections; ground truth ${mib(statSync(gtFile).size)}, detections ${mib(statSync(detsFile).size)} (${numbers} numbers)`);
    // Files over 512 MiB are past V8's longest string: no JSON.parse floor then.
    const withFloor = statSync(detsFile).size < 500 * 2 ** 20;
    const protocols = ["standard", "fixed"] as const;
    // Rounds of the floor and both protocols one after another, so that each round's ratio is
    // taken in one state of the machine (a busy host moves JSON.parse and us unequally).
    const floors: number[] = [];
    const endToEnd: number[] = [];
    const best = new Map<string, CliMeasurement>();
    const ratios = new Map<string, number[]>(protocols.map((p) => [p, []]));
    for (let round = 0; round < runs; round++) {
      const floor = withFloor ? await parseFloors([gtFile, detsFile], dir, 1) : { parse: NaN, endToEnd: NaN };
      floors.push(floor.parse);
      endToEnd.push(floor.endToEnd);
      for (const protocol of protocols) {
        const m = await measureCli(["eval", "lvis", "--annotations", gtFile, "--predictions", detsFile, "--ap", protocol, "--json", join(dir, "out.json")]);
        if (!best.has(protocol) || m.seconds < best.get(protocol)!.seconds) best.set(protocol, m);
        ratios.get(protocol)!.push(m.seconds / floor.parse);
      }
    }
    const floor = Math.min(...floors);
    const floorEndToEnd = Math.min(...endToEnd);
    if (withFloor) {
      console.log(`  floor: JSON.parse of both files ${floor.toFixed(2)} s (the best of ${runs} rounds, each round the floor then both protocols; each run below is the best of its ${runs})`);
      console.log(`  the same as a whole process, Node's start-up included: ${floorEndToEnd.toFixed(2)} s`);
    }
    for (const protocol of protocols) {
      const perRound = ratios.get(protocol)!;
      const seconds = best.get(protocol)!.seconds;
      const suffix = withFloor ? `, ${(seconds / floor).toFixed(2)}x the floor (per round: ${perRound.map((r) => r.toFixed(2)).join(", ")}), ${(seconds / floorEndToEnd).toFixed(2)}x the whole process` : "";
      printMeasurement(`--ap ${protocol}`, best.get(protocol)!, dir, /\(\d+\.\d+ s\)$/, suffix);
    }
  } finally {
    if (values.keep) console.log(`  data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
