/**
 * Model inputs for a batch: images normalised with ImageNet's mean and std and zero-padded to the
 * largest in the batch, with `pixel_mask` marking real pixels (DETR's NestedTensor); prompts
 * padded to the longest, with `attention_mask`.
 */
import ort from "onnxruntime-node";
import type { PreparedImage } from "../datasets/images.js";
import type { ImageOutputs } from "./postprocess.js";
import type { ModelSession } from "./session.js";
import type { EncodedPrompt } from "./tokenizer.js";

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export interface BatchItem {
  image: PreparedImage;
  prompt: EncodedPrompt;
}

/** An integer tensor in the element type the model declares for that input. */
function integerTensor(type: string | undefined, values: ArrayLike<number>, dims: number[]): ort.Tensor {
  switch (type) {
    case "int32":
      return new ort.Tensor("int32", Int32Array.from(values), dims);
    case "bool":
      return new ort.Tensor("bool", Uint8Array.from(values), dims);
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(values), dims);
    default:
      return new ort.Tensor("int64", BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
  }
}

export function batchFeeds(items: readonly BatchItem[], model: ModelSession, padId: number): Record<string, ort.Tensor> {
  const b = items.length;
  const height = Math.max(...items.map((i) => i.image.resized.height));
  const width = Math.max(...items.map((i) => i.image.resized.width));
  const plane = height * width;
  const pixels = new Float32Array(b * 3 * plane);
  const mask = new Uint8Array(b * plane);
  items.forEach(({ image }, n) => {
    const { rgb, width: w, height: h } = image.resized;
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * plane;
      const scale = 1 / (255 * STD[c]!);
      const shift = MEAN[c]! / STD[c]!;
      for (let y = 0; y < h; y++) {
        const row = base + y * width;
        for (let x = 0; x < w; x++) pixels[row + x] = rgb[3 * (y * w + x) + c]! * scale - shift;
      }
    }
    for (let y = 0; y < h; y++) mask.fill(1, n * plane + y * width, n * plane + y * width + w);
  });
  const length = Math.max(...items.map((i) => i.prompt.ids.length));
  const ids = new Array<number>(b * length).fill(padId);
  const attention = new Array<number>(b * length).fill(0);
  items.forEach(({ prompt }, n) => {
    prompt.ids.forEach((id, t) => {
      ids[n * length + t] = id;
      attention[n * length + t] = 1;
    });
  });
  const feeds: Record<string, ort.Tensor> = {
    pixel_values: new ort.Tensor("float32", pixels, [b, 3, height, width]),
    input_ids: integerTensor(model.inputTypes.get("input_ids"), ids, [b, length]),
    attention_mask: integerTensor(model.inputTypes.get("attention_mask"), attention, [b, length]),
  };
  if (model.hasPixelMask) feeds["pixel_mask"] = integerTensor(model.inputTypes.get("pixel_mask"), mask, [b, height, width]);
  if (model.hasTokenTypeIds) feeds["token_type_ids"] = integerTensor(model.inputTypes.get("token_type_ids"), new Array<number>(b * length).fill(0), [b, length]);
  return feeds;
}

/** Runs one batch and splits the outputs per image. */
export async function runBatch(model: ModelSession, feeds: Record<string, ort.Tensor>, batchSize: number): Promise<ImageOutputs[]> {
  const results = await model.session.run(feeds);
  const boxes = results["pred_boxes"]!;
  const logits = results[model.logitsName]!;
  const [, queries, positions] = logits.dims as [number, number, number];
  const boxData = boxes.data as Float32Array;
  const logitData = logits.data as Float32Array;
  return Array.from({ length: batchSize }, (_, n) => ({
    boxes: boxData.subarray(n * queries * 4, (n + 1) * queries * 4),
    logits: logitData.subarray(n * queries * positions, (n + 1) * queries * positions),
    queries,
    positions,
  }));
}
