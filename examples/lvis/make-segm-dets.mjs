// Makes segm_dets.json: synthetic mask detections for gt.json (run from the repository root after
// `npm install`: node examples/lvis/make-segm-dets.mjs). Per ground-truth annotation, up to two
// detections whose polygons are the annotation's moved by up to 3 px, some of another category,
// plus one false positive per image; each rasterised at the image's size and written as compressed
// RLE, as model outputs are. Seeded, so the file is the same on every run.
import { writeFileSync, readFileSync } from "node:fs";
import { rleFromPolygon } from "../../dist/src/compat/coco-mask/polygon.js";
import { mergeRles } from "../../dist/src/compat/coco-mask/rle.js";
import { rleToString } from "../../dist/src/compat/coco-mask/rle-string.js";

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const gt = JSON.parse(readFileSync("examples/lvis/gt.json", "utf8"));
const size = new Map(gt.images.map((i) => [i.id, [i.height, i.width]]));
const categories = gt.categories.map((c) => c.id);
const round = (v) => Math.round(v * 100) / 100;
const dets = [];
const mask = (polygons, [h, w]) => ({ size: [h, w], counts: rleToString(mergeRles(polygons.map((p) => rleFromPolygon(p, h, w)), false).counts) });
for (const a of gt.annotations) {
  const hw = size.get(a.image_id);
  for (let k = random() < 0.3 ? 2 : 1; k > 0; k--) {
    const dx = (random() - 0.5) * 6, dy = (random() - 0.5) * 6;
    const polygons = a.segmentation.map((p) => p.map((v, i) => round(v + (i % 2 ? dy : dx))));
    const category = random() < 0.85 ? a.category_id : categories[Math.floor(random() * categories.length)];
    dets.push({ image_id: a.image_id, category_id: category, segmentation: mask(polygons, hw), score: round(random()) });
  }
}
for (const image of gt.images) {
  const [h, w] = [image.height, image.width];
  const x = random() * (w - 60), y = random() * (h - 60), s = 10 + random() * 50;
  const category = categories[Math.floor(random() * categories.length)];
  dets.push({ image_id: image.id, category_id: category, segmentation: mask([[x, y, x + s, y, x + s, y + s, x, y + s].map(round)], [h, w]), score: round(random()) });
}
writeFileSync("examples/lvis/segm_dets.json", JSON.stringify(dets));
console.log(`${dets.length} mask detections`);
