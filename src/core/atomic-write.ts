/**
 * Results are written to a temporary file beside the target and renamed over it, so a failed or
 * interrupted run never leaves a half-written result where a finished one is expected.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { closeSync, createWriteStream, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { finished } from "node:stream/promises";
import { UsageError } from "./errors.js";

function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Writes the chunks in order (strings or bytes), honouring back-pressure, then renames into place. */
export async function writeFileAtomic(target: string, chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
  const temporary = temporaryPathFor(target);
  const out = createWriteStream(temporary, { flags: "wx" });
  const opened = new Promise<void>((resolve, reject) => {
    out.once("open", () => resolve());
    out.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new UsageError(`cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    for await (const chunk of chunks) {
      if (!out.write(chunk)) await once(out, "drain");
    }
    out.end();
    await finished(out);
    await rename(temporary, target);
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * The same guarantee for writers that produce their output in synchronous steps (inside a
 * parser's callbacks): bytes are gathered into blocks of 1 MiB and written with writeSync;
 * `commit` renames the file into place, `abort` removes it.
 */
export class AtomicFile {
  private readonly temporary: string;
  private fd: number | undefined;
  private readonly block = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private committed = false;
  /** Bytes written so far. */
  bytes = 0;

  constructor(private readonly target: string) {
    this.temporary = temporaryPathFor(target);
    try {
      this.fd = openSync(this.temporary, "wx");
    } catch (error) {
      throw new UsageError(`cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }

  write(chunk: string | Uint8Array): void {
    if (typeof chunk === "string") {
      // Short strings are encoded straight into the block; long ones go through a buffer.
      if (chunk.length * 3 <= this.block.length - this.used) {
        const written = this.block.write(chunk, this.used);
        this.used += written;
        this.bytes += written;
        return;
      }
      chunk = Buffer.from(chunk);
    }
    this.bytes += chunk.length;
    if (chunk.length > this.block.length - this.used) {
      this.flush();
      if (chunk.length >= this.block.length) {
        this.writeAll(chunk);
        return;
      }
    }
    this.block.set(chunk, this.used);
    this.used += chunk.length;
  }

  /** Writes what is left and renames the file into place. */
  commit(): void {
    this.flush();
    closeSync(this.fd!);
    this.fd = undefined;
    renameSync(this.temporary, this.target);
    this.committed = true;
  }

  /** Removes the temporary file (after a failure, a failed rename included); a no-op after commit. */
  abort(): void {
    if (this.committed) return;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.temporary, { force: true });
  }

  private flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.block.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.fd!, bytes, offset);
  }
}

/** Runs `write` on an AtomicFile for `target`: renamed into place when it returns, removed when it throws. */
export async function withAtomicFile<T>(target: string, write: (file: AtomicFile) => Promise<T> | T): Promise<T> {
  const file = new AtomicFile(target);
  try {
    const result = await write(file);
    file.commit();
    return result;
  } finally {
    file.abort();
  }
}
