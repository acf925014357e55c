/**
 * The worker of ThreadedHash (inputs.ts): SHA-256 of the chunks it is sent, on another core than
 * the parser's. Messages in: a Uint8Array (more bytes), "reset", "digest"; out: the digest.
 */
import { createHash } from "node:crypto";
import { parentPort, type MessagePort } from "node:worker_threads";

function serve(port: MessagePort): void {
  let hash = createHash("sha256");
  let bytes = 0;
  port.on("message", (message: Uint8Array | "reset" | "digest") => {
    if (message === "reset") {
      hash = createHash("sha256");
      bytes = 0;
    } else if (message === "digest") {
      port.postMessage({ bytes, sha256: hash.digest("hex") });
    } else {
      hash.update(message);
      bytes += message.length;
    }
  });
}

if (parentPort) serve(parentPort);
