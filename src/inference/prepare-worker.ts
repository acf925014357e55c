/**
 * The worker of the image threads (prepare-pool.ts): decodes a picture and writes its normalised
 * planes (images.ts `prepareImage`) into shared memory, which the runner reads without a copy.
 * Shared, not transferred: a transfer detaches the buffer, and once a thread has detached one,
 * V8 checks for detachment at every typed-array access of its optimised code (its "array buffer
 * detaching" protector): the resampler ran 20-25% slower in a worker that transferred its planes.
 * Messages in: PrepareRequest; out: PrepareReply.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { decodeImage, detrSize, prepareDecoded } from "./images.js";

export interface PrepareRequest {
  id: number;
  path: string;
  exif: boolean;
  /** A buffer the runner is done with, to write the planes into when it is big enough. */
  spare: SharedArrayBuffer | undefined;
}

export type PrepareReply = { id: number; unused: SharedArrayBuffer | undefined } & (
  | { width: number; height: number; resized: { width: number; height: number }; buffer: SharedArrayBuffer }
  | { error: string }
);

function serve(port: MessagePort): void {
  // Several requests at once: one picture decodes on libuv's threads while another is resampled.
  port.on("message", async ({ id, path, exif, spare }: PrepareRequest) => {
    let reply: PrepareReply;
    try {
      const decoded = await decodeImage(path, exif);
      const { width, height } = detrSize(decoded.width, decoded.height);
      const bytes = 12 * width * height;
      const buffer = spare && spare.byteLength >= bytes ? spare : new SharedArrayBuffer(bytes);
      const image = prepareDecoded(decoded, undefined, undefined, buffer);
      reply = { id, width: image.width, height: image.height, resized: { width, height }, buffer, unused: spare !== buffer ? spare : undefined };
    } catch (error) {
      // The message alone crosses over: it is what the runner reports for the file.
      reply = { id, error: error instanceof Error ? error.message : String(error), unused: spare };
    }
    port.postMessage(reply);
  });
}

if (parentPort) serve(parentPort);
