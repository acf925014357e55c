/**
 * Who decodes and prepares the pictures of a run (images.ts `prepareFile`): this thread, or a
 * pool of worker threads (prepare-worker.ts) so that the resampling, which runs on the thread
 * that asks for it (WebAssembly, not libvips' threads), runs beside the model and the runner
 * instead of before them. Either way requests start in the order they are made, a few at a time,
 * and the planes' buffers of finished pictures are reused (a new 10 MB buffer costs its page
 * faults again).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { PillowResampler } from "../compat/pil.js";
import { prepareFile, type PreparedImage } from "./images.js";
import type { PrepareReply, PrepareRequest } from "./prepare-worker.js";

export interface PicturePreparer {
  /**
   * The picture at `path`, or its reason for not being readable. `alone`: with no other picture
   * in preparation (libvips keeps one error buffer for all its threads, so a picture that fails
   * while others decode can lose its reason); it goes before the waiting requests.
   */
  prepare(path: string, exif: boolean, alone?: boolean): Promise<PreparedImage>;
  /** The runner is done with the picture: its planes' buffer may hold another picture. */
  release(image: PreparedImage): void;
  /** How many pictures it prepares at once: the runner asks for at least as many ahead. */
  readonly slots: number;
  close(): Promise<void>;
}

/** A worker that stopped: the run stops (it is not the picture's fault). */
export class PreparerStopped extends Error {}

/**
 * Image threads for a run of `pictures`: `requested`, or one per core the runner's thread leaves
 * when that makes at least two. One is no faster than none: sharp already decodes on libuv's
 * threads while this thread resamples (2-core machine, `bench infer --model none`, best of 3:
 * 123 images/s with none, 117 with one, 145 with two, which leave the runner no core of its
 * own). A thread takes about 0.12 s to start, so a run of a few pictures starts none.
 */
export function prepareThreads(requested: number | "auto", pictures: number): number {
  if (requested !== "auto") return requested;
  const spare = availableParallelism() - 1;
  return spare >= 2 && pictures > 4 * spare ? spare : 0;
}

/**
 * 0 threads: this thread prepares (sharp still decodes on libuv's threads); else a pool. Four
 * pictures at a time for each thread: a thread resampling one picture cannot start decoding the
 * next, so it needs some already decoding (two at a time: 20% slower).
 */
export function openPreparer(threads: number): PicturePreparer {
  return threads === 0 ? new Preparer(new ThisThread(), 4) : new Preparer(new Pool(threads), 4 * threads);
}

interface Task {
  path: string;
  exif: boolean;
  alone: boolean;
  resolve: (image: PreparedImage) => void;
  reject: (error: unknown) => void;
}

/** A picture or why it is unreadable, and the spare buffer it was given if it did not use it. */
type Outcome = ({ image: PreparedImage } | { error: Error }) & { unused: ArrayBufferLike | undefined };

/** Where a request runs, given a spare buffer (or none) to write into; rejects only when it stopped. */
interface Executor {
  run(path: string, exif: boolean, spare: ArrayBufferLike | undefined): Promise<Outcome>;
  close(): Promise<void>;
}

/** The queue: at most `slots` pictures in preparation, and `alone` requests with nothing beside them. */
class Preparer implements PicturePreparer {
  private readonly queue: Task[] = [];
  private running = 0;
  private aloneRunning = false;
  private closed = false;
  private readonly spares: ArrayBufferLike[] = [];

  constructor(
    private readonly executor: Executor,
    readonly slots: number,
  ) {}

  prepare(path: string, exif: boolean, alone = false): Promise<PreparedImage> {
    return new Promise((resolve, reject) => {
      const task = { path, exif, alone, resolve, reject };
      if (alone) this.queue.unshift(task);
      else this.queue.push(task);
      this.pump();
    });
  }

  release(image: PreparedImage): void {
    // Enough for the pictures in preparation; a run of equal sizes then allocates no more.
    if (this.spares.length < this.slots + 1) this.spares.push(image.resized.planes.buffer);
  }

  close(): Promise<void> {
    // The pictures still waiting are no longer wanted (a run stopped early): none of them starts.
    const stopped = new PreparerStopped("the image threads were closed");
    for (const task of this.queue.splice(0)) task.reject(stopped);
    this.closed = true;
    return this.executor.close();
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && !this.aloneRunning && this.running < this.slots) {
      if (this.queue[0]!.alone && this.running > 0) return;
      const task = this.queue.shift()!;
      this.running++;
      this.aloneRunning = task.alone;
      this.executor
        .run(task.path, task.exif, this.spares.pop())
        .then((outcome) => {
          if (outcome.unused) this.spares.push(outcome.unused);
          if ("image" in outcome) task.resolve(outcome.image);
          else task.reject(outcome.error);
        }, task.reject)
        .finally(() => {
          this.running--;
          if (task.alone) this.aloneRunning = false;
          this.pump();
        });
    }
  }
}

class ThisThread implements Executor {
  private readonly resampler = new PillowResampler();

  async run(path: string, exif: boolean, spare: ArrayBufferLike | undefined): Promise<Outcome> {
    try {
      return await prepareFile(path, exif, this.resampler, spare);
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)), unused: spare };
    }
  }

  async close(): Promise<void> {}
}

interface Pending {
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** Worker threads, each given the next request when it has the fewest in hand. */
class Pool implements Executor {
  private readonly workers: { worker: Worker; pending: Map<number, Pending> }[];
  private nextId = 0;
  private stopped: Error | undefined;

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const entry = { worker: new Worker(new URL("./prepare-worker.js", import.meta.url)), pending: new Map<number, Pending>() };
      entry.worker.on("message", (reply: PrepareReply) => this.answer(entry, reply));
      entry.worker.on("error", (error) => this.stop(new PreparerStopped(`an image thread failed: ${error.message}`)));
      entry.worker.on("exit", (code) => this.stop(new PreparerStopped(`an image thread stopped (exit code ${code})`)));
      // Held only while it has work: a run that ends without close() must not hang the process.
      entry.worker.unref();
      return entry;
    });
  }

  run(path: string, exif: boolean, spare: ArrayBufferLike | undefined): Promise<Outcome> {
    if (this.stopped) return Promise.reject(this.stopped);
    const entry = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (entry.pending.size === 0) entry.worker.ref();
      entry.pending.set(id, { resolve, reject });
      // The workers' buffers are shared memory (prepare-worker.ts says why): posted, not moved.
      const request: PrepareRequest = { id, path, exif, spare: spare instanceof SharedArrayBuffer ? spare : undefined };
      entry.worker.postMessage(request);
    });
  }

  private answer({ worker, pending }: { worker: Worker; pending: Map<number, Pending> }, reply: PrepareReply): void {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    waiting.resolve("error" in reply ? { error: new Error(reply.error), unused: reply.unused } : { image: reply.image, unused: reply.unused });
  }

  private stop(error: Error): void {
    this.stopped ??= error;
    for (const { pending } of this.workers) {
      for (const { reject } of pending.values()) reject(this.stopped);
      pending.clear();
    }
  }

  async close(): Promise<void> {
    // Terminating is not a failure of the pictures in preparation: they are no longer wanted.
    // They are dropped first, so that a reply still on its way finds none waiting and does not
    // unref its worker (answer()) while it stops.
    this.stop(new PreparerStopped("the image threads were closed"));
    // Held again while they stop: an unref'd worker's exit alone may not keep the event loop
    // alive, and the process would end with close() still pending.
    await Promise.all(this.workers.map(({ worker }) => {
      worker.ref();
      return worker.terminate();
    }));
  }
}
