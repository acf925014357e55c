/**
 * What a run read: each input file (or folder) with its size and SHA-256, hashed from the same
 * bytes the readers parse (no second pass over the file), for the `meta` block of every result.
 */
import { createHash, type Hash } from "node:crypto";

export interface InputRecord {
  /** As the user named it. */
  path: string;
  bytes: number;
  sha256: string;
  /** For a folder: how many of its files were read (in a fixed order, hashed name and content). */
  files?: number;
  /** For JSON: the engine that read it (split, stream or parse). */
  reader?: string;
}

/** A SHA-256 fed chunk by chunk while a file is read. */
export class ContentHash {
  private hash: Hash = createHash("sha256");
  bytes = 0;

  /** Starts over (a reader that read part of a file and reads it again from the start). */
  reset(): this {
    this.hash = createHash("sha256");
    this.bytes = 0;
    return this;
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  digest(): { bytes: number; sha256: string } {
    return { bytes: this.bytes, sha256: this.hash.digest("hex") };
  }
}

/**
 * A folder read file by file: each file's relative name and content go into one hash, so the same
 * files with the same contents give the same hash wherever the folder is.
 */
export class FolderHash {
  private readonly hash = new ContentHash();
  files = 0;

  add(relativeName: string, content: Uint8Array): void {
    const name = Buffer.from(relativeName, "utf8");
    const header = Buffer.alloc(12);
    header.writeUInt32BE(name.length, 0);
    header.writeBigUInt64BE(BigInt(content.length), 4);
    this.hash.update(header);
    this.hash.update(name);
    this.hash.update(content);
    this.files++;
  }

  digest(): { bytes: number; sha256: string; files: number } {
    return { ...this.hash.digest(), files: this.files };
  }
}

/** The inputs of one run; the first complete read of a path is the one recorded. */
export class InputLog {
  private readonly records = new Map<string, InputRecord>();

  record(entry: InputRecord): void {
    if (!this.records.has(entry.path)) this.records.set(entry.path, entry);
  }

  /** Hashes bytes already in memory (small files read whole). */
  recordBytes(path: string, content: Uint8Array): void {
    const hash = new ContentHash();
    hash.update(content);
    this.record({ path, ...hash.digest() });
  }

  get(path: string): InputRecord | undefined {
    return this.records.get(path);
  }

  list(): InputRecord[] {
    return [...this.records.values()];
  }
}
