/**
 * Which detections an LVIS prediction file must hold so that both protocols score it exactly as
 * they would score every detection D a model gives (the infer-bench contract's keeping rule L6):
 * per image the top M by score (standard AP's LVISResults cut, M = 300), and per category the top
 * K over all images (fixed AP's LvisEvaluatorFixedAP cut, K = 10,000), both over all of D, ties
 * going to the earlier detection in D, written in D's order. Each protocol then reads the cut it
 * would have made of D (its stable sort sees D's order restricted), while D itself (about 5e9
 * detections on LVIS minival) could never be written.
 *
 * D arrives image by image (an image's detections are all known when its model runs end); the
 * per-category top K lives in bounded heaps in typed arrays, so memory is O(images x M +
 * categories x K), not O(D).
 */
import { Growable } from "../../core/growable.js";
import type { BoxDetections } from "./columns.js";

export interface KeepCaps {
  /** Per image: the top M (standard AP's max_dets). */
  maxDetsPerImage: number;
  /** Per category over all images: the top K (fixed AP's detections per category). */
  topkPerCategory: number;
}

/** The detections of one image, in D's order: category index, [x, y, w, h], score. */
export interface ImageDetections {
  category: Int32Array;
  bbox: Float64Array;
  score: Float64Array;
}

/**
 * A min-heap per category of its best K detections so far; the root is the one to drop next: the
 * lowest score, and among equal scores the latest in D.
 */
class CategoryHeaps {
  readonly size: Int32Array;
  readonly score: Float64Array[] = [];
  readonly order: Float64Array[] = [];
  readonly image: Int32Array[] = [];
  readonly bbox: Float64Array[] = [];

  constructor(
    categories: number,
    private readonly k: number,
  ) {
    this.size = new Int32Array(categories);
  }

  /** Offers detection `order` (later than every one offered before). */
  offer(c: number, score: number, order: number, image: number, bbox: Float64Array, at: number): void {
    if (this.k <= 0) return;
    if (!this.score[c]) this.allocate(c);
    const scores = this.score[c]!;
    const n = this.size[c]!;
    let slot: number;
    if (n < this.k) {
      slot = n;
      this.size[c] = n + 1;
      this.put(c, slot, score, order, image, bbox, at);
      this.siftUp(c, slot);
    } else {
      // A later detection with an equal score loses the tie: only a higher score gets in.
      if (!(score > scores[0]!)) return;
      this.put(c, 0, score, order, image, bbox, at);
      this.siftDown(c, 0);
    }
  }

  private allocate(c: number): void {
    // Small categories stay small: grow to K only when needed.
    const initial = Math.min(this.k, 64);
    this.score[c] = new Float64Array(initial);
    this.order[c] = new Float64Array(initial);
    this.image[c] = new Int32Array(initial);
    this.bbox[c] = new Float64Array(4 * initial);
  }

  private put(c: number, slot: number, score: number, order: number, image: number, bbox: Float64Array, at: number): void {
    if (slot >= this.score[c]!.length) this.grow(c);
    this.score[c]![slot] = score;
    this.order[c]![slot] = order;
    this.image[c]![slot] = image;
    const box = this.bbox[c]!;
    for (let k = 0; k < 4; k++) box[4 * slot + k] = bbox[4 * at + k]!;
  }

  private grow(c: number): void {
    const length = Math.min(this.k, 2 * this.score[c]!.length);
    const widen = <T extends Float64Array | Int32Array>(old: T, make: new (n: number) => T, width = 1): T => {
      const next = new make(width * length);
      next.set(old as never);
      return next;
    };
    this.score[c] = widen(this.score[c]!, Float64Array);
    this.order[c] = widen(this.order[c]!, Float64Array);
    this.image[c] = widen(this.image[c]!, Int32Array);
    this.bbox[c] = widen(this.bbox[c]!, Float64Array, 4);
  }

  /** a goes nearer the root than b: a lower score, or an equal score and later in D. */
  private worse(c: number, a: number, b: number): boolean {
    const s = this.score[c]!;
    return s[a]! < s[b]! || (s[a] === s[b] && this.order[c]![a]! > this.order[c]![b]!);
  }

  private swap(c: number, a: number, b: number): void {
    for (const column of [this.score[c]!, this.order[c]!, this.image[c]!]) {
      const t = column[a]!;
      column[a] = column[b]!;
      column[b] = t;
    }
    const box = this.bbox[c]!;
    for (let k = 0; k < 4; k++) {
      const t = box[4 * a + k]!;
      box[4 * a + k] = box[4 * b + k]!;
      box[4 * b + k] = t;
    }
  }

  private siftUp(c: number, i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(c, i, parent)) return;
      this.swap(c, i, parent);
      i = parent;
    }
  }

  private siftDown(c: number, i: number): void {
    const n = this.size[c]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.worse(c, right, left) ? right : left;
      if (!this.worse(c, child, i)) return;
      this.swap(c, i, child);
      i = child;
    }
  }
}

/** The `limit`-th highest score (1-based) of `score`: quickselect on a copy, O(n). */
export function kthHighest(score: Float64Array, limit: number): number {
  const values = score.slice();
  let lo = 0;
  let hi = values.length - 1;
  const target = limit - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target]!;
  }
  return values[target]!;
}

/** Streams D image by image and gives back the detections to write (rule L6). */
export class LvisKeeper {
  private readonly heaps: CategoryHeaps;
  private next = 0;
  // The per-image tops, in D's order.
  private readonly order = new Growable(Float64Array, 1 << 14);
  private readonly image = new Growable(Int32Array, 1 << 14);
  private readonly category = new Growable(Int32Array, 1 << 14);
  private readonly bbox = new Growable(Float64Array, 1 << 16);
  private readonly score = new Growable(Float64Array, 1 << 14);

  constructor(
    categories: number,
    private readonly caps: KeepCaps,
  ) {
    this.heaps = new CategoryHeaps(categories, caps.topkPerCategory);
  }

  /** All detections of image `image`, in D's order (prompt / category, then query). */
  addImage(image: number, detections: ImageDetections): void {
    const { category, bbox, score } = detections;
    const n = score.length;
    const m = this.caps.maxDetsPerImage;
    // The top M (a negative M: no cap, as max_dets = -1): every score above the M-th highest, and
    // of those equal to it the earliest in D.
    const all = m < 0 || n <= m;
    const threshold = all ? -Infinity : m === 0 ? Infinity : kthHighest(score, m);
    let ties = 0;
    if (!all && m > 0) {
      let above = 0;
      for (let d = 0; d < n; d++) if (score[d]! > threshold) above++;
      ties = m - above;
    }
    for (let d = 0; d < n; d++) {
      const order = this.next++;
      const s = score[d]!;
      this.heaps.offer(category[d]!, s, order, image, bbox, d);
      const top = all || s > threshold || (s === threshold && ties-- > 0);
      if (!top) continue;
      this.order.push(order);
      this.image.push(image);
      this.category.push(category[d]!);
      for (let k = 0; k < 4; k++) this.bbox.push(bbox[4 * d + k]!);
      this.score.push(s);
    }
  }

  /** The union of both cuts, each detection once, in D's order. */
  result(): BoxDetections {
    const heaps = this.heaps;
    const categories = heaps.size.length;
    // Each category's kept slots in D's order: sort (order, slot) packed in one double.
    const factor = 2 ** Math.ceil(Math.log2(Math.max(2, this.caps.topkPerCategory + 1)));
    if (this.next * factor > Number.MAX_SAFE_INTEGER) throw new RangeError("too many detections to order exactly");
    const slots: Int32Array[] = [];
    for (let c = 0; c < categories; c++) {
      const n = heaps.size[c]!;
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = heaps.order[c]![i]! * factor + i;
      keys.sort();
      slots.push(Int32Array.from(keys, (key) => key % factor));
    }
    // Merge the per-image tops (already in D's order) with the categories' lists.
    const lists = categories + 1;
    const position = new Int32Array(lists);
    const length = Int32Array.from({ length: lists }, (_, l) => (l === 0 ? this.order.length : heaps.size[l - 1]!));
    const orderAt = (l: number) => (l === 0 ? this.order.view()[position[0]!]! : heaps.order[l - 1]![slots[l - 1]![position[l]!]!]!);
    const total = length.reduce((a, b) => a + b, 0);
    const out = { image: new Int32Array(total), category: new Int32Array(total), bbox: new Float64Array(4 * total), score: new Float64Array(total) };
    const queue = new MergeQueue(lists);
    for (let l = 0; l < lists; l++) if (length[l]! > 0) queue.push(l, orderAt(l));
    let count = 0;
    let last = -1;
    while (queue.size > 0) {
      const l = queue.popList();
      const order = orderAt(l);
      if (order !== last) {
        last = order;
        if (l === 0) {
          const i = position[0]!;
          out.image[count] = this.image.view()[i]!;
          out.category[count] = this.category.view()[i]!;
          out.bbox.set(this.bbox.view().subarray(4 * i, 4 * i + 4), 4 * count);
          out.score[count] = this.score.view()[i]!;
        } else {
          const c = l - 1;
          const slot = slots[c]![position[l]!]!;
          out.image[count] = heaps.image[c]![slot]!;
          out.category[count] = c;
          out.bbox.set(heaps.bbox[c]!.subarray(4 * slot, 4 * slot + 4), 4 * count);
          out.score[count] = heaps.score[c]![slot]!;
        }
        count++;
      }
      position[l]!++;
      if (position[l]! < length[l]!) queue.push(l, orderAt(l));
    }
    return { image: out.image.slice(0, count), category: out.category.slice(0, count), bbox: out.bbox.slice(0, 4 * count), score: out.score.slice(0, count) };
  }
}

/** A binary min-heap of lists by the order of their next entry (a k-way merge). */
class MergeQueue {
  private readonly key: Float64Array;
  private readonly list: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.key = new Float64Array(capacity);
    this.list = new Int32Array(capacity);
  }

  push(list: number, key: number): void {
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.key[parent]! <= key) break;
      this.key[i] = this.key[parent]!;
      this.list[i] = this.list[parent]!;
      i = parent;
    }
    this.key[i] = key;
    this.list[i] = list;
  }

  /** Removes the list with the smallest key and returns it. */
  popList(): number {
    const top = this.list[0]!;
    const n = --this.size;
    const key = this.key[n]!;
    const list = this.list[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.key[child + 1]! < this.key[child]!) child++;
      if (this.key[child]! >= key) break;
      this.key[i] = this.key[child]!;
      this.list[i] = this.list[child]!;
      i = child;
    }
    this.key[i] = key;
    this.list[i] = list;
    return top;
  }
}
