/**
 * The exported grounding model, opened once through onnxruntime-node on the chosen device, and
 * checked against the model contract (README: "Model contract").
 */
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ort from "onnxruntime-node";
import { InputError, UsageError } from "../core/errors.js";
import { InputLog, readWholeInput } from "../core/inputs.js";
import type { Scoring } from "./postprocess.js";

export type Device = "auto" | "cuda" | "webgpu" | "cpu";

export interface ModelSession {
  session: ort.InferenceSession;
  device: Exclude<Device, "auto">;
  hasPixelMask: boolean;
  hasTokenTypeIds: boolean;
  logitsName: "pred_logits" | "logits";
  defaultScoring: Scoring;
  /** Element type each input expects (the mask and id inputs vary between exports). */
  inputTypes: Map<string, string>;
  /** T, the token positions of the logits, when the model fixes it. */
  positions: number | undefined;
  /** Devices tried before this one, and why they could not run. */
  unavailable: string[];
  /** Of the model file's bytes, the ones the session was made from. */
}

const REQUIRED_INPUTS = ["pixel_values", "input_ids", "attention_mask"];
const OPTIONAL_INPUTS = ["pixel_mask", "token_type_ids"];

/** Where onnxruntime-node keeps its native libraries (the CUDA provider is installed there). */
function runtimeLibraryFolder(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
    const root = join(dirname(entry), "..", "..");
    const folder = join(root, "bin", "napi-v6", process.platform, process.arch);
    return existsSync(folder) ? folder : undefined;
  } catch {
    return undefined;
  }
}

function vulkanLoaderPresent(): boolean {
  const folders = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", ...(process.env["LD_LIBRARY_PATH"] ?? "").split(":").filter(Boolean)];
  return folders.some((folder) => existsSync(join(folder, "libvulkan.so.1")));
}

/** Why a device cannot start, found without asking the runtime (whose native logs are noisy). */
function missingPrerequisite(device: Exclude<Device, "auto">): string | undefined {
  if (device === "cuda") {
    const folder = runtimeLibraryFolder();
    const installed = folder !== undefined && readdirSync(folder).some((f) => f.startsWith("libonnxruntime_providers_cuda"));
    return installed ? undefined : "the CUDA provider of onnxruntime-node is not installed (see README: GPU inference; it needs CUDA 12 and cuDNN 9)";
  }
  if (device === "webgpu" && process.platform === "linux" && !vulkanLoaderPresent()) {
    return "no Vulkan loader (libvulkan.so.1) is installed; WebGPU needs it and a Vulkan driver for the GPU";
  }
  return undefined;
}

function describeContract(session: ort.InferenceSession): string {
  return `found inputs ${session.inputNames.join(", ") || "(none)"} and outputs ${session.outputNames.join(", ") || "(none)"}`;
}

function checkContract(path: string, session: ort.InferenceSession): Omit<ModelSession, "session" | "device" | "unavailable"> {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const logitsName = outputs.has("pred_logits") ? "pred_logits" : outputs.has("logits") ? "logits" : undefined;
  const unknown = session.inputNames.filter((n) => !REQUIRED_INPUTS.includes(n) && !OPTIONAL_INPUTS.includes(n));
  if (REQUIRED_INPUTS.some((n) => !inputs.has(n)) || unknown.length > 0 || !outputs.has("pred_boxes") || !logitsName) {
    throw new InputError(
      path,
      undefined,
      `not a grounding model of the expected contract: expected inputs pixel_values, input_ids, attention_mask (pixel_mask, token_type_ids optional) and outputs pred_boxes plus pred_logits or logits; ${describeContract(session)}`,
    );
  }
  const inputTypes = new Map<string, string>();
  const metadata = (session as unknown as { inputMetadata?: { name: string; type?: string }[] }).inputMetadata ?? [];
  for (const entry of metadata) if (entry.type) inputTypes.set(entry.name, entry.type);
  const outputMetadata = (session as unknown as { outputMetadata?: { name: string; shape?: (number | string)[] }[] }).outputMetadata ?? [];
  const lastDimension = outputMetadata.find((o) => o.name === logitsName)?.shape?.at(-1);
  return {
    hasPixelMask: inputs.has("pixel_mask"),
    hasTokenTypeIds: inputs.has("token_type_ids"),
    logitsName,
    defaultScoring: logitsName === "pred_logits" ? "mdetr" : "sigmoid",
    inputTypes,
    positions: typeof lastDimension === "number" ? lastDimension : undefined,
  };
}

/** One line saying which device runs, for the log. */
export function deviceLine(model: ModelSession): string {
  const skipped = model.unavailable.map((r) => r.split(":")[0]).join(", ");
  return `running on ${model.device}${skipped ? ` (${skipped} unavailable; --verbose says why)` : ""}`;
}

/**
 * From the bytes read; a model whose weights are in external data files (found next to the model
 * file, which a session made from bytes cannot do) is opened from its path instead.
 */
async function createSession(path: string, bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (error) {
    if (!/external data/i.test(error instanceof Error ? error.message : String(error))) throw error;
    return ort.InferenceSession.create(path, options);
  }
}

/**
 * Reads the model file once: its bytes are hashed into `inputs` (under `path`, as the user named
 * it) and the session is made from the same bytes.
 */
export async function openModel(path: string, device: Device, verbose: boolean, inputs: InputLog = new InputLog()): Promise<ModelSession> {
  if (!existsSync(path)) throw new UsageError(`--model ${path}: no such file`);
  const { bytes } = await readWholeInput(path, inputs, (reason) => new UsageError(`--model ${path}: cannot read: ${reason}`));
  // onnxruntime's own log lines stay off the terminal unless --verbose.
  ort.env.logLevel = verbose ? "warning" : "fatal";
  const candidates: Exclude<Device, "auto">[] = device === "auto" ? ["cuda", "webgpu", "cpu"] : [device];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    const missing = missingPrerequisite(candidate);
    if (missing) {
      if (device !== "auto") throw new UsageError(`--device ${candidate}: cannot start: ${missing}`);
      reasons.push(`${candidate}: ${missing}`);
      continue;
    }
    let session: ort.InferenceSession;
    try {
      session = await createSession(path, bytes, { executionProviders: [candidate], logSeverityLevel: verbose ? 2 : 4, graphOptimizationLevel: "all" });
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0]!.replace(/^.*\] /, "");
      if (candidate === "cpu" || device !== "auto") {
        const message = `cannot open the model on ${candidate}: ${reason}`;
        throw candidate === "cpu" ? new InputError(path, undefined, message) : new UsageError(`--device ${candidate}: ${message}`);
      }
      reasons.push(`${candidate}: ${reason}`);
      continue;
    }
    return { ...checkContract(path, session), session, device: candidate, unavailable: reasons };
  }
  throw new UsageError(`no device could run the model: ${reasons.join("; ")}`);
}
