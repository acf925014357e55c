/**
 * `npm run bench -- infer [--images 200] [--batch-size 1] [--model tiny|none] [--prepare-threads N]`:
 * 200 generated 640x480 JPEGs through a tiny model of the infer contract (built in code, as the
 * tests build it), on the CPU; prints the time per image of each stage and the peak RSS, and the
 * CPU time of each stage on one core. The model is tiny on purpose: what is measured is everything
 * around it. `--model none` runs infer dir's job runner in this process with a stand-in that
 * answers at no cost (the tiny model's outputs of the first batch, replayed): the images/s the CPU
 * side allows, the ceiling a fast model would meet; `--prepare-threads` sets its image threads
 * (0: none, the runner's thread prepares; default: the runner's choice).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { Tokenizer } from "tokenizers";
import { tinyModel } from "../test/support/tiny-model.js";
import { measureCli, seededRandom } from "./support.js";
import { PillowResampler } from "../src/compat/pil.js";
import { decodeImage, prepareDecoded } from "../src/inference/images.js";
import { batchFeeds, runBatch, TensorBuffers } from "../src/inference/batch.js";
import { postprocessImage } from "../src/inference/postprocess.js";
import { prepareThreads } from "../src/inference/prepare-pool.js";
import { runFolder } from "../src/inference/run-folder.js";
import { openModel, type ModelSession } from "../src/inference/session.js";
import { loadTokenizer } from "../src/inference/tokenizer.js";
import { readdirSync } from "node:fs";

/**
 * CPU milliseconds per image of each stage, run one after another with libvips on one thread.
 * The model runs once, before: onnxruntime's threads spin a while after each run, and that CPU
 * time would land in the stages measured next.
 */
async function measureStagesOnOneCore(images: string, modelPath: string, tokenizerPath: string): Promise<{ decode: number; resize: number; tensors: number; postprocess: number }> {
  sharp.concurrency(1);
  const model = await openModel(modelPath, "cpu", false);
  const tokenizer = await loadTokenizer(tokenizerPath);
  const prompt = await tokenizer.encode("a cat next to a remote");
  const files = readdirSync(images).sort();
  const resampler = new PillowResampler();
  const first = prepareDecoded(await decodeImage(join(images, files[0]!)), resampler);
  const [outputs] = await runBatch(model, batchFeeds([{ image: first, prompt }], model, tokenizer.padId), 1);
  await model.session.release();
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const totals = { decode: 0, resize: 0, tensors: 0, postprocess: 0 };
  // The runner reuses its tensors and the planes' buffer of a finished picture; so does this loop.
  const buffers = new TensorBuffers();
  let spare: ArrayBuffer | undefined;
  for (const file of files) {
    let t = cpu();
    const decoded = await decodeImage(join(images, file));
    totals.decode += cpu() - t;
    t = cpu();
    const image = prepareDecoded(decoded, resampler, spare);
    totals.resize += cpu() - t;
    t = cpu();
    batchFeeds([{ image, prompt }], model, tokenizer.padId, buffers);
    totals.tensors += cpu() - t;
    t = cpu();
    postprocessImage(outputs!, prompt, image, { scoring: "mdetr", threshold: 0.7, tokenThreshold: 0.1 });
    totals.postprocess += cpu() - t;
    spare = image.resized.planes.buffer as ArrayBuffer;
  }
  const per = (ms: number) => ms / files.length;
  return { decode: per(totals.decode), resize: per(totals.resize), tensors: per(totals.tensors), postprocess: per(totals.postprocess) };
}

/** The tiny model's session, made to replay its first answer: a model that costs nothing. */
function standIn(model: ModelSession): ModelSession {
  let first: Awaited<ReturnType<ModelSession["session"]["run"]>> | undefined;
  const session = {
    run: async (feeds: Parameters<ModelSession["session"]["run"]>[0]) => (first ??= await model.session.run(feeds)),
  } as unknown as ModelSession["session"];
  return { ...model, session };
}

/** Images per second of infer dir's runner (decode, tensors, postprocess, prefetch) around a free model. */
async function measureCeiling(images: string, modelPath: string, tokenizerPath: string, batchSize: number, prepareThreads: number | "auto"): Promise<{ perSecond: number; times: Awaited<ReturnType<typeof runFolder>> }> {
  const model = await openModel(modelPath, "cpu", false);
  const tokenizer = await loadTokenizer(tokenizerPath);
  const prompt = await tokenizer.encode("a cat next to a remote");
  const jobs = readdirSync(images).sort().map((file) => ({ file, prompt }));
  const started = performance.now();
  const times = await runFolder(jobs, standIn(model), tokenizer, { root: images, batchSize, prepareThreads, postprocess: { scoring: "mdetr", threshold: 0.7, tokenThreshold: 0.1 } }, async () => {});
  const seconds = (performance.now() - started) / 1000;
  await model.session.release();
  return { perSecond: jobs.length / seconds, times };
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export async function benchInfer(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { images: { type: "string", default: "200" }, "batch-size": { type: "string", default: "1" }, model: { type: "string", default: "tiny" }, "prepare-threads": { type: "string" }, keep: { type: "boolean", default: false } } });
  if (values.model !== "tiny" && values.model !== "none") throw new Error(`--model: expected tiny or none, got ${values.model}`);
  const count = Number(values.images);
  const dir = mkdtempSync(join(tmpdir(), "mdetr-bench-infer-"));
  try {
    const images = join(dir, "images");
    mkdirSync(images);
    const random = seededRandom(3);
    process.stderr.write(`generating ${count} 640x480 JPEGs in ${dir} ...\n`);
    // Smooth random pictures (noise upsampled), so the JPEGs are of realistic size and content.
    for (let i = 0; i < count; i++) {
      const noise = Buffer.from(Array.from({ length: 32 * 24 * 3 }, () => Math.floor(random() * 256)));
      await sharp(noise, { raw: { width: 32, height: 24, channels: 3 } }).resize(640, 480, { kernel: "cubic" }).jpeg({ quality: 90 }).toFile(join(images, `img_${String(i).padStart(4, "0")}.jpg`));
    }
    const tokenizerFile = join(repoRoot, "test/fixtures/golden/infer/text_mdetr/tokenizer.json");
    copyFileSync(tokenizerFile, join(dir, "tokenizer.json"));
    const tokenizer = Tokenizer.fromFile(tokenizerFile);
    writeFileSync(join(dir, "model.onnx"), tinyModel({ hotTokenIds: [tokenizer.tokenToId("Ġcat")!] }));
    if (values.model === "none") {
      const threads = values["prepare-threads"] === undefined ? "auto" : Number(values["prepare-threads"]);
      const { perSecond, times } = await measureCeiling(images, join(dir, "model.onnx"), join(dir, "tokenizer.json"), Number(values["batch-size"]), threads);
      const per = (ms: number) => (ms / count).toFixed(1);
      const used = prepareThreads(threads, count);
      const pool = `${used} image thread${used === 1 ? "" : "s"}`;
      console.log(`infer --model none: ${count} images 640x480, batch size ${values["batch-size"]}, ${pool}: ${perSecond.toFixed(1)} images/s (${(1000 / perSecond).toFixed(1)} ms per image), the ceiling the CPU side allows on this machine (waiting for pictures ${per(times.decode)}, tensors ${per(times.preprocess)}, postprocess ${per(times.postprocess)} ms per image of wall time)`);
      return;
    }
    const m = await measureCli(["infer", "dir", images, "--model", join(dir, "model.onnx"), "--text", "a cat next to a remote", "--batch-size", values["batch-size"]!, "--out", join(dir, "out.jsonl")]);
    console.log(`infer: ${count} images 640x480 (resized to 1066x800), batch size ${values["batch-size"]}: ${m.seconds.toFixed(2)} s wall (${((1000 * m.seconds) / count).toFixed(1)} ms per image, all included), peak RSS ${m.peakRssMiB} MiB`);
    for (const line of m.log.filter((l) => /time per image|images done/.test(l))) console.log(`  the command's own report: ${line}`);
    // The stages overlap in the command (decoding runs beside the model); measure each alone.
    const single = await measureStagesOnOneCore(images, join(dir, "model.onnx"), join(dir, "tokenizer.json"));
    const sum = single.decode + single.resize + single.tensors + single.postprocess;
    console.log(`  one core, stages one after another (CPU time per image): decode ${single.decode.toFixed(1)} ms, resize+normalise ${single.resize.toFixed(1)} ms, tensors ${single.tensors.toFixed(2)} ms, postprocess ${single.postprocess.toFixed(2)} ms; the CPU side: ${sum.toFixed(1)} ms per image (${(1000 / sum).toFixed(0)} images/s on one core)`);
  } finally {
    if (values.keep) console.log(`  data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
