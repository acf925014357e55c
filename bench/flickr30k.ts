/**
 * `npm run bench -- flickr30k [--images 1000] [--boxes 100] [--runs 3] [--numbers short|float32]`: a Flickr30k-Entities-shaped test
 * split (1,000 images, 5 sentences each, about 14,500 phrases with boxes, 100 ranked boxes per
 * phrase) written as the dataset is distributed, then `mdetr eval flickr30k` timed in both
 * protocols.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureCli, mib, numberStyle, parseFloor, predicted, printMeasurement, seededRandom, writeStreamed } from "./support.js";

const TYPES = ["people", "clothing", "bodyparts", "animals", "vehicles", "instruments", "scene", "other"];

export async function benchFlickr30k(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { images: { type: "string", default: "1000" }, boxes: { type: "string", default: "100" }, numbers: { type: "string", default: "short" }, runs: { type: "string", default: "3" }, keep: { type: "boolean", default: false } } });
  const runs = Number(values.runs);
  const numbers = numberStyle(values.numbers);
  const images = Number(values.images);
  const boxesPerPhrase = Number(values.boxes);
  const dir = mkdtempSync(join(tmpdir(), "mdetr-bench-flickr-"));
  try {
    const random = seededRandom(11);
    const root = join(dir, "flickr");
    mkdirSync(join(root, "Annotations"), { recursive: true });
    mkdirSync(join(root, "Sentences"));
    const ids = Array.from({ length: images }, (_, i) => String(1000000 + i));
    writeFileSync(join(root, "test.txt"), `${ids.join("\n")}\n`);
    writeFileSync(join(root, "val.txt"), "");
    writeFileSync(join(root, "train.txt"), "");
    const predictions: { image_id: string; sentence_id: number; phrases: number }[] = [];
    let phraseCount = 0;
    for (const id of ids) {
      // 4 entities with boxes (one with two boxes), 1 without.
      const objects: string[] = [];
      for (let e = 0; e < 4; e++) {
        for (let b = e === 0 ? 2 : 1; b > 0; b--) {
          const x = Math.floor(random() * 400);
          const y = Math.floor(random() * 300);
          objects.push(`<object><name>${id}${e}</name><bndbox><xmin>${x}</xmin><ymin>${y}</ymin><xmax>${x + 20 + Math.floor(random() * 80)}</xmax><ymax>${y + 20 + Math.floor(random() * 80)}</ymax></bndbox></object>`);
        }
      }
      objects.push(`<object><name>${id}9</name><nobndbox>1</nobndbox><scene>0</scene></object>`);
      writeFileSync(join(root, "Annotations", `${id}.xml`), `<annotation><filename>${id}.jpg</filename><size><width>500</width><height>400</height><depth>3</depth></size>${objects.join("")}</annotation>`);
      const lines: string[] = [];
      for (let s = 0; s < 5; s++) {
        const entities = Array.from({ length: 2 + Math.floor(random() * 3) }, () => Math.floor(random() * 4));
        const withBoxes = entities.length;
        phraseCount += withBoxes;
        const phrases = entities.map((e) => `[/EN#${id}${e}/${TYPES[Math.floor(random() * TYPES.length)]} a thing]`);
        lines.push(`${phrases.join(" next to ")} near [/EN#${id}9/other the air] .`);
        predictions.push({ image_id: id, sentence_id: s, phrases: withBoxes });
      }
      writeFileSync(join(root, "Sentences", `${id}.txt`), `${lines.join("\n")}\n`);
    }
    const predFile = join(dir, "pred.json");
    await writeStreamed(predFile, (function* () {
      yield "[";
      for (const [i, p] of predictions.entries()) {
        const boxes = Array.from({ length: p.phrases }, () =>
          Array.from({ length: boxesPerPhrase }, () => {
            const x = random() * 450;
            const y = random() * 350;
            return [predicted(numbers, x, 1), predicted(numbers, y, 1), predicted(numbers, x + 10 + random() * 100, 1), predicted(numbers, y + 10 + random() * 100, 1)];
          }),
        );
        yield (i ? "," : "") + JSON.stringify({ image_id: p.image_id, sentence_id: p.sentence_id, boxes });
      }
      yield "]";
    })());
    console.log(`flickr30k: ${images} images, ${predictions.length} sentences, ${phraseCount} phrases x ${boxesPerPhrase} boxes; predictions ${mib(statSync(predFile).size)} (${numbers} numbers)`);
    const floor = await parseFloor([predFile], dir, runs);
    console.log(`  floor: JSON.parse of the predictions ${floor.toFixed(2)} s, the best of ${runs} (the XML and sentence files come on top); each run below is the best of ${runs}`);
    for (const merged of [[], ["--merged"]]) {
      const m = await measureCli(["eval", "flickr30k", "--flickr-dir", root, "--split", "test", "--predictions", predFile, "--json", join(dir, "out.json"), ...merged], runs);
      const each = m.runs.map((s) => s.toFixed(2)).join(", ");
      printMeasurement(merged.length ? "--merged" : "separate boxes", m, dir, /\(\d+\.\d+ s\)$/, `, ${(m.seconds / floor).toFixed(2)}x the floor (runs: ${each} s)`);
    }
  } finally {
    if (values.keep) console.log(`  data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
