/**
 * The worker of the image threads (prepare-pool.ts): decodes a picture and writes its normalised
 * planes (images.ts `prepareFile`) into shared memory, which the runner copies into the batch
 * tensor (onnxruntime refuses a tensor in shared memory).
 * Shared, not transferred: a transfer detaches the buffer, and once a thread has detached one,
 * V8 checks for detachment at every typed-array access of its optimised code (its "array buffer
 * detaching" protector): the resampler ran 20-25% slower in a worker that transferred its planes.
 * Messages in: PrepareRequest; out: PrepareReply.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { PillowResampler } from "../compat/pil.js";
import { prepareFile, type PreparedImage } from "./images.js";

export interface PrepareRequest {
  id: number;
  path: string;
  exif: boolean;
  /** A buffer the runner is done with, to write the planes into when it is big enough. */
  spare: SharedArrayBuffer | undefined;
}

/** The picture (its planes a view of shared memory, which posting shares, not copies) or its reason. */
export type PrepareReply = { id: number; unused: SharedArrayBuffer | undefined } & ({ image: PreparedImage } | { error: string });

function serve(port: MessagePort): void {
  const resampler = new PillowResampler();
  // Several requests at once: one picture decodes on libuv's threads while another is resampled.
  port.on("message", async ({ id, path, exif, spare }: PrepareRequest) => {
    let reply: PrepareReply;
    try {
      const { image, unused } = await prepareFile(path, exif, resampler, spare, (bytes) => new SharedArrayBuffer(bytes));
      reply = { id, image, unused: unused as SharedArrayBuffer | undefined };
    } catch (error) {
      // The message alone crosses over: it is what the runner reports for the file.
      reply = { id, error: error instanceof Error ? error.message : String(error), unused: spare };
    }
    port.postMessage(reply);
  });
}

if (parentPort) serve(parentPort);
