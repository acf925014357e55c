/**
 * Box overlap of two [x1, y1, x2, y2] boxes with every operation rounded to float32, in the order
 * torch evaluates MDETR's `util/box_ops.py` (`box_iou`, `generalized_box_iou`) on float32 tensors.
 * Math.fround after each +, -, *, / gives exactly the float32 result (a double has enough spare
 * bits that rounding twice never differs from rounding once for these operations), so borderline
 * matches at the threshold fall the same way as in the reference.
 *
 * Two degenerate boxes give 0/0 = NaN, as in the reference; callers decide what NaN means.
 */
const f = Math.fround;

export type BoxOverlap = "iou" | "giou";

/** box_iou's intersection and union of two boxes, each step in float32. */
function intersectionAndUnion(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): { inter: number; union: number } {
  const areaA = f(f(a2 - a0) * f(a3 - a1));
  const areaB = f(f(b2 - b0) * f(b3 - b1));
  const w = Math.max(f(Math.min(a2, b2) - Math.max(a0, b0)), 0);
  const h = Math.max(f(Math.min(a3, b3) - Math.max(a1, b1)), 0);
  const inter = f(w * h);
  return { inter, union: f(f(areaA + areaB) - inter) };
}

/** `box_iou`; arguments are float32 values (already passed through Math.fround). */
export function iouFloat32(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): number {
  const { inter, union } = intersectionAndUnion(a0, a1, a2, a3, b0, b1, b2, b3);
  return f(inter / union);
}

/** `generalized_box_iou`, which reuses box_iou's union. */
export function giouFloat32(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): number {
  const { inter, union } = intersectionAndUnion(a0, a1, a2, a3, b0, b1, b2, b3);
  const iou = f(inter / union);
  // The smallest box enclosing both.
  const cw = Math.max(f(Math.max(a2, b2) - Math.min(a0, b0)), 0);
  const ch = Math.max(f(Math.max(a3, b3) - Math.min(a1, b1)), 0);
  const enclosing = f(cw * ch);
  return f(iou - f(f(enclosing - union) / enclosing));
}

export function overlapFunction(kind: BoxOverlap): typeof iouFloat32 {
  return kind === "giou" ? giouFloat32 : iouFloat32;
}
