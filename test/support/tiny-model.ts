/**
 * Tiny ONNX grounding models with the `infer` contract, built in code (onnx-proto), whose outputs
 * follow a formula the tests can compute by hand:
 *
 *   m[b]        = masked mean of pixel_values over channels and real pixels (plain mean without
 *                 a pixel_mask input), so padding must not change it
 *   pred_boxes  = sigmoid(m[b] * BOX_SCALE[q] + BOX_BIAS[q])            [B, Q, 4] (cx, cy, w, h)
 *   logits      = m[b] * IMAGE_WEIGHT + TOKEN_GAIN[q] * embedding(input_ids[b, t]) * attention
 *                 + POSITION_BIAS[t], the token part zero-padded to T positions   [B, Q, T]
 */
import onnxProto from "onnx-proto";
import type { onnx as Onnx } from "onnx-proto";

// onnx-proto is CommonJS: its namespace comes through the default export.
const { onnx } = onnxProto;

export const QUERIES = 3;
export const POSITIONS = 12;
export const VOCAB = 400;
export const BOX_SCALE = [0, 0.5, -0.5];
export const BOX_BIAS: number[][] = [
  [0, 0, -1, -1],
  [-0.4, 0.2, 0, 0.3],
  [0.6, -0.3, -2, -1.5],
];
export const IMAGE_WEIGHT = 0.25;
/** Per query: how strongly it follows the token embedding. */
export const TOKEN_GAIN = [6, -6, 0];
/** The last position is MDETR's "no object": query 2 (no token gain) mostly lands there. */
export const POSITION_BIAS = Array.from({ length: POSITIONS }, (_, t) => (t === POSITIONS - 1 ? 3 : 0));

/** embedding(id): 1 for ids in the "hot" set, else 0 (tests choose which token ids are hot). */
export interface TinyModelOptions {
  logitsName?: "pred_logits" | "logits";
  pixelMask?: boolean;
  tokenTypeIds?: boolean;
  hotTokenIds: number[];
  /** Rename an input to break the contract. */
  renameInput?: [string, string];
}

const { DataType } = onnx.TensorProto;

function tensor(name: string, dims: number[], values: number[], type: Onnx.TensorProto.DataType = DataType.FLOAT): Onnx.ITensorProto {
  return type === DataType.INT64
    ? { name, dims, dataType: type, int64Data: values }
    : { name, dims, dataType: type, floatData: values };
}

function input(name: string, type: Onnx.TensorProto.DataType, dims: (number | string)[]): Onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function node(opType: string, inputs: string[], outputs: string[], attributes: Onnx.IAttributeProto[] = []): Onnx.INodeProto {
  return { opType, input: inputs, output: outputs, attribute: attributes };
}

const ints = (name: string, values: number[]): Onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
const int = (name: string, value: number): Onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });

export function tinyModel(options: TinyModelOptions): Uint8Array {
  const logitsName = options.logitsName ?? "pred_logits";
  const pixelMask = options.pixelMask ?? true;
  const embedding = Array.from({ length: VOCAB }, (_, id) => (options.hotTokenIds.includes(id) ? 1 : 0));
  const nodes: Onnx.INodeProto[] = [];
  if (pixelMask) {
    nodes.push(
      node("Cast", ["pixel_mask"], ["mask_f"], [int("to", DataType.FLOAT)]),
      node("Unsqueeze", ["mask_f", "axis1"], ["mask_4d"]),
      node("Mul", ["pixel_values", "mask_4d"], ["masked"]),
      node("ReduceSum", ["masked", "axes_chw"], ["pixel_sum"], [int("keepdims", 0)]),
      node("ReduceSum", ["mask_f", "axes_hw"], ["real_pixels"], [int("keepdims", 0)]),
      node("Mul", ["real_pixels", "three"], ["real_values"]),
      node("Div", ["pixel_sum", "real_values"], ["m"]),
    );
  } else {
    nodes.push(node("ReduceMean", ["pixel_values"], ["m"], [ints("axes", [1, 2, 3]), int("keepdims", 0)]));
  }
  nodes.push(
    // m: [B] -> [B, 1, 1]
    node("Unsqueeze", ["m", "axes_12"], ["m3"]),
    node("Mul", ["m3", "box_scale"], ["box_scaled"]),
    node("Add", ["box_scaled", "box_bias"], ["box_logit"]),
    node("Sigmoid", ["box_logit"], ["pred_boxes"]),
    node("Gather", ["embedding", "input_ids"], ["token_values"]),
    node("Cast", ["attention_mask"], ["attention_f"], [int("to", DataType.FLOAT)]),
    node("Mul", ["token_values", "attention_f"], ["token_masked"]),
    node("Shape", ["input_ids"], ["ids_shape"]),
    node("Slice", ["ids_shape", "one", "two"], ["length"]),
    node("Sub", ["positions", "length"], ["pad_end"]),
    node("Concat", ["zeros3", "pad_end"], ["pads"], [int("axis", 0)]),
    node("Pad", ["token_masked", "pads"], ["token_padded"]),
    node("Unsqueeze", ["token_padded", "axis1"], ["token_3d"]),
    node("Mul", ["token_3d", "token_gain"], ["token_part"]),
    node("Mul", ["m3", "image_weight"], ["image_part"]),
    node("Add", ["token_part", "image_part"], ["with_image"]),
    node("Add", ["with_image", "position_bias"], [logitsName]),
  );
  const initializer = [
    tensor("axis1", [1], [1], DataType.INT64),
    tensor("axes_chw", [3], [1, 2, 3], DataType.INT64),
    tensor("axes_hw", [2], [1, 2], DataType.INT64),
    tensor("axes_12", [2], [1, 2], DataType.INT64),
    tensor("three", [], [3]),
    tensor("box_scale", [1, QUERIES, 1], BOX_SCALE),
    tensor("box_bias", [1, QUERIES, 4], BOX_BIAS.flat()),
    tensor("embedding", [VOCAB], embedding),
    tensor("one", [1], [1], DataType.INT64),
    tensor("two", [1], [2], DataType.INT64),
    tensor("positions", [1], [POSITIONS], DataType.INT64),
    tensor("zeros3", [3], [0, 0, 0], DataType.INT64),
    tensor("token_gain", [1, QUERIES, 1], TOKEN_GAIN),
    tensor("image_weight", [], [IMAGE_WEIGHT]),
    tensor("position_bias", [1, 1, POSITIONS], POSITION_BIAS),
  ];
  const inputs = [
    input("pixel_values", DataType.FLOAT, ["batch", 3, "height", "width"]),
    ...(pixelMask ? [input("pixel_mask", DataType.INT64, ["batch", "height", "width"])] : []),
    input("input_ids", DataType.INT64, ["batch", "seq"]),
    input("attention_mask", DataType.INT64, ["batch", "seq"]),
    ...(options.tokenTypeIds ? [input("token_type_ids", DataType.INT64, ["batch", "seq"])] : []),
  ];
  if (options.renameInput) {
    const [from, to] = options.renameInput;
    for (const i of inputs) if (i.name === from) i.name = to;
    for (const n of nodes) n.input = n.input!.map((name: string) => (name === from ? to : name));
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "mdetr-tests",
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "tiny-grounding",
      node: nodes,
      initializer,
      input: inputs,
      output: [input("pred_boxes", DataType.FLOAT, ["batch", QUERIES, 4]), input(logitsName, DataType.FLOAT, ["batch", QUERIES, POSITIONS])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The formula's m for a uniform image of one RGB colour (no resizing effects). */
export function uniformImageFeature(rgb: [number, number, number]): number {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  return rgb.reduce((sum, v, c) => sum + (v / 255 - mean[c]!) / std[c]!, 0) / 3;
}

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
