/**
 * `npm run bench -- infer-lvis [--pictures 3] [--categories 1203] [--prompts per-category|chunked]` and
 * `npm run bench -- infer-refcoco [--pictures 50] [--expressions 3]`: generated 640x480 pictures and
 * benchmark files through the tiny model of the infer contract on the CPU; prints wall time per
 * picture and per prompt, and the peak RSS. The model is tiny on purpose: what is measured is
 * everything around it (decoding, tensors, heads, the keeping rule).
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { Tokenizer } from "tokenizers";
import { tinyModel } from "../test/support/tiny-model.js";
import { measureCli, seededRandom, withBenchDir } from "./support.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

async function makePictures(dir: string, count: number, name: (i: number) => string): Promise<void> {
  const random = seededRandom(7);
  for (let i = 0; i < count; i++) {
    const noise = Buffer.from(Array.from({ length: 32 * 24 * 3 }, () => Math.floor(random() * 256)));
    await sharp(noise, { raw: { width: 32, height: 24, channels: 3 } }).resize(640, 480, { kernel: "cubic" }).jpeg({ quality: 90 }).toFile(join(dir, name(i)));
  }
}

function makeModel(dir: string): string {
  const tokenizerFile = join(repoRoot, "test/fixtures/golden/infer/text_mdetr/tokenizer.json");
  copyFileSync(tokenizerFile, join(dir, "tokenizer.json"));
  const tokenizer = Tokenizer.fromFile(tokenizerFile);
  const model = join(dir, "model.onnx");
  writeFileSync(model, tinyModel({ hotTokenIds: [tokenizer.tokenToId("Ġcat")!] }));
  return model;
}

export async function benchInferLvis(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pictures: { type: "string", default: "3" }, categories: { type: "string", default: "1203" }, prompts: { type: "string", default: "per-category" }, keep: { type: "boolean", default: false } } });
  const pictures = Number(values.pictures);
  const categories = Number(values.categories);
  await withBenchDir("infer-lvis", values.keep, async (dir) => {
    mkdirSync(join(dir, "val2017"));
    await makePictures(join(dir, "val2017"), pictures, (i) => `${String(i + 1).padStart(12, "0")}.jpg`);
    const annotations = join(dir, "lvis.json");
    writeFileSync(annotations, JSON.stringify({
      images: Array.from({ length: pictures }, (_, i) => ({ id: i + 1, width: 640, height: 480, coco_url: `http://images.cocodataset.org/val2017/${String(i + 1).padStart(12, "0")}.jpg`, neg_category_ids: [], not_exhaustive_category_ids: [] })),
      categories: Array.from({ length: categories }, (_, c) => ({ id: c + 1, name: `thing_${c + 1}_(kind)`, frequency: "f" })),
      annotations: [],
    }));
    const model = makeModel(dir);
    const m = await measureCli(["infer", "lvis", "--annotations", annotations, "--images", dir, "--model", model, "--prompts", values.prompts!, "-o", join(dir, "dets.json")]);
    const prompts = values.prompts === "chunked" ? Math.ceil(categories / 40) : categories;
    for (const line of m.log.filter((l) => /time per picture/.test(l))) console.log(`  the command's own report: ${line}`);
    console.log(`infer-lvis: ${pictures} pictures x ${categories} categories (${values.prompts}: ${prompts} prompts a picture), tiny model, CPU: ${m.seconds.toFixed(2)} s wall, ${((1000 * m.seconds) / pictures).toFixed(0)} ms per picture, ${((1000 * m.seconds) / (pictures * prompts)).toFixed(2)} ms per prompt, peak RSS ${m.peakRssMiB} MiB`);
  });
}

export async function benchInferRefcoco(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pictures: { type: "string", default: "50" }, expressions: { type: "string", default: "3" }, keep: { type: "boolean", default: false } } });
  const pictures = Number(values.pictures);
  const perPicture = Number(values.expressions);
  await withBenchDir("infer-refcoco", values.keep, async (dir) => {
    mkdirSync(join(dir, "images"));
    await makePictures(join(dir, "images"), pictures, (i) => `COCO_train2014_${String(i + 1).padStart(12, "0")}.jpg`);
    const images: unknown[] = [];
    const annotations: unknown[] = [];
    for (let i = 0; i < pictures; i++) {
      for (let e = 0; e < perPicture; e++) {
        const id = images.length + 1;
        images.push({ id, file_name: `COCO_train2014_${String(i + 1).padStart(12, "0")}.jpg`, original_id: i + 1, caption: `a cat ${e}`, width: 640, height: 480, dataset_name: "refcoco" });
        annotations.push({ id, image_id: id, bbox: [10, 10, 100, 100], area: 10000, iscrowd: 0, category_id: 1 });
      }
    }
    const file = join(dir, "finetune_refcoco_testA.json");
    writeFileSync(file, JSON.stringify({ images, annotations, categories: [{ id: 1, name: "object" }] }));
    const model = makeModel(dir);
    const m = await measureCli(["infer", "refcoco", "--annotations", file, "--images", join(dir, "images"), "--model", model, "-o", join(dir, "pred.json"), "--eval"]);
    const n = pictures * perPicture;
    console.log(`infer-refcoco: ${n} expressions on ${pictures} pictures, tiny model, CPU, with --eval: ${m.seconds.toFixed(2)} s wall, ${(pictures / m.seconds).toFixed(1)} pictures/s, ${((1000 * m.seconds) / n).toFixed(1)} ms per expression, peak RSS ${m.peakRssMiB} MiB`);
  });
}

export async function benchInferFlickr30k(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pictures: { type: "string", default: "50" }, sentences: { type: "string", default: "5" }, keep: { type: "boolean", default: false } } });
  const pictures = Number(values.pictures);
  const perPicture = Number(values.sentences);
  await withBenchDir("infer-flickr30k", values.keep, async (dir) => {
    const flickr = join(dir, "flickr");
    for (const folder of ["images", "flickr/Annotations", "flickr/Sentences"]) mkdirSync(join(dir, folder), { recursive: true });
    const ids = Array.from({ length: pictures }, (_, i) => String(1000000 + i));
    await makePictures(join(dir, "images"), pictures, (i) => `${ids[i]}.jpg`);
    for (const id of ids) {
      const box = (name: number, x: number) => `<object><name>${name}</name><bndbox><xmin>${x}</xmin><ymin>20</ymin><xmax>${x + 100}</xmax><ymax>200</ymax></bndbox></object>`;
      writeFileSync(join(flickr, "Annotations", `${id}.xml`), `<annotation><filename>${id}.jpg</filename><size><width>640</width><height>480</height><depth>3</depth></size>${box(1, 10)}${box(2, 300)}</annotation>`);
      writeFileSync(join(flickr, "Sentences", `${id}.txt`), Array.from({ length: perPicture }, (_, s) => `[/EN#1/animals a cat] and [/EN#2/other a remote${s}]`).join("\n") + "\n");
    }
    writeFileSync(join(flickr, "test.txt"), `${ids.join("\n")}\n`);
    const model = makeModel(dir);
    const m = await measureCli(["infer", "flickr30k", "--flickr-dir", flickr, "--split", "test", "--images", join(dir, "images"), "--model", model, "-o", join(dir, "pred.json"), "--eval"]);
    const n = pictures * perPicture;
    console.log(`infer-flickr30k: ${n} sentences (${2 * n} phrases) on ${pictures} pictures, tiny model, CPU, with --eval: ${m.seconds.toFixed(2)} s wall, ${(pictures / m.seconds).toFixed(1)} pictures/s, ${((1000 * m.seconds) / n).toFixed(1)} ms per sentence, peak RSS ${m.peakRssMiB} MiB`);
  });
}
