/**
 * Which captions of one image may share a pre-training datapoint: the greedy graph colouring of
 * `get_refexp_groups` in MDETR's `scripts/pre-training/combine_datasets_train.py`.
 *
 * Nodes are the image's datapoints; an edge joins two when some box of one overlaps some box of
 * the other by more than `maxOverlap`. Nodes are coloured in descending (degree, index) order,
 * each with the smallest colour that no coloured neighbour has and whose captions still fit the
 * length rule, or a new colour. Each colour becomes one combined datapoint.
 */
import { giouFloat32, iouFloat32 } from "../compat/torch-box-ops.js";

export interface ColouringOptions {
  overlap: "giou" | "iou";
  maxOverlap: number;
  maxChars: number;
  /**
   * The released script's rules: IoU only; a NaN overlap (two zero-area boxes) makes torch.max
   * NaN, so that pair of datapoints gets no edge; and the length rule "raw caption lengths so
   * far + this length + 2 <= maxChars". Otherwise a NaN overlap counts as 0 and the combined
   * caption, separators and added '.' included, never exceeds maxChars.
   */
  mdetrCompat: boolean;
}

export interface ColouringNode {
  /** [x1, y1, x2, y2] per box, float32 (the script stacks them into torch tensors). */
  boxes: Float32Array;
  /** The caption's length in code points. */
  captionLength: number;
  /** Whether the caption ends in '.' or '?' (otherwise joining appends a '.'). */
  endsSentence: boolean;
}

/** Whether the largest overlap between any box of a and any box of b exceeds maxOverlap (>= 0). */
function exceedsOverlap(a: Float32Array, b: Float32Array, options: ColouringOptions): boolean {
  const measure = options.overlap === "giou" && !options.mdetrCompat ? giouFloat32 : iouFloat32;
  let largest = -Infinity;
  for (let i = 0; i < a.length; i += 4) {
    const a0 = a[i]!, a1 = a[i + 1]!, a2 = a[i + 2]!, a3 = a[i + 3]!;
    const aEmpty = a2 === a0 || a3 === a1;
    for (let j = 0; j < b.length; j += 4) {
      const b0 = b[j]!, b1 = b[j + 1]!, b2 = b[j + 2]!, b3 = b[j + 3]!;
      // Boxes that do not intersect have IoU 0 and GIoU <= 0, never above a threshold >= 0; the
      // float32 differences have the sign of these comparisons, so skipping them changes nothing.
      // Two zero-area boxes still go through: their 0/0 is the NaN the modes read differently.
      if ((Math.min(a2, b2) <= Math.max(a0, b0) || Math.min(a3, b3) <= Math.max(a1, b1)) && !(aEmpty && (b2 === b0 || b3 === b1))) continue;
      const value = measure(a0, a1, a2, a3, b0, b1, b2, b3);
      if (Number.isNaN(value)) {
        // torch.max propagates NaN and `NaN > 0.5` is False: no edge, whatever the other pairs say.
        if (options.mdetrCompat) return false;
        continue;
      }
      if (value > largest) largest = value;
      if (!options.mdetrCompat && largest > options.maxOverlap) return true;
    }
  }
  // `.item()` hands Python a float32 value, compared with the threshold as a double.
  return largest > options.maxOverlap;
}

export function overlapGraph(nodes: readonly ColouringNode[], options: ColouringOptions): number[][] {
  const adjacency: number[][] = nodes.map(() => []);
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      if (exceedsOverlap(nodes[i]!.boxes, nodes[j]!.boxes, options)) {
        adjacency[i]!.push(j);
        adjacency[j]!.push(i);
      }
    }
  }
  return adjacency;
}

/** Colour classes in the order the reference emits them: by first use, members in colouring order. */
export function colourGreedily(nodes: readonly ColouringNode[], adjacency: readonly number[][], options: ColouringOptions): number[][] {
  const order = nodes.map((_, index) => index).sort((a, b) => adjacency[b]!.length - adjacency[a]!.length || b - a);
  const colourOf = new Int32Array(nodes.length).fill(-1);
  // Per colour: raw caption lengths summed (compat), or the combined caption's length (strict).
  const size: number[] = [0];
  const classes = new Map<number, number[]>();
  const usedByNeighbours = new Set<number>();
  for (const node of order) {
    usedByNeighbours.clear();
    for (const neighbour of adjacency[node]!) if (colourOf[neighbour]! >= 0) usedByNeighbours.add(colourOf[neighbour]!);
    const { captionLength, endsSentence } = nodes[node]!;
    const joinedLength = captionLength + (endsSentence ? 0 : 1);
    const grown = (colour: number) =>
      options.mdetrCompat ? size[colour]! + captionLength : size[colour] === 0 ? joinedLength : size[colour]! + 1 + joinedLength;
    // The script's test is `color_size + new_length + 2 <= 250`, so its captions can run past 250.
    const fits = (colour: number) => (options.mdetrCompat ? grown(colour) + 2 : grown(colour)) <= options.maxChars;
    let colour = -1;
    for (let c = 0; c < size.length; c++) {
      if (!usedByNeighbours.has(c) && fits(c)) {
        colour = c;
        break;
      }
    }
    if (colour < 0) {
      colour = size.length;
      size.push(0);
    }
    colourOf[node] = colour;
    size[colour] = grown(colour);
    const members = classes.get(colour);
    if (members) members.push(node);
    else classes.set(colour, [node]);
  }
  return [...classes.values()];
}
