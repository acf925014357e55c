/** numpy behaviours that decide lvis-api's and MDETR's numbers, mirrored exactly. */

/**
 * np.linspace as numpy computes it (numpy/core/function_base.py): start + i * step, with the last
 * value set to stop exactly. lvis-api's iou_thrs and rec_thrs are compared to 0.5 and 0.75 with ==,
 * so the rounding of every element matters.
 */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const step = (stop - start) / (num - 1);
  const values = Float64Array.from({ length: num }, (_, i) => i * step + start);
  values[num - 1] = stop;
  return values;
}

/** np.spacing(1): the gap from 1.0 to the next double, which lvis-api adds to precision's denominator. */
export const SPACING_OF_ONE = 2.220446049250313e-16;

/**
 * np.searchsorted(sorted, value, side="left"), starting the search at `from`: the first index i >=
 * from with sorted[i] >= value, or sorted.length. Ascending queries can walk on from the last answer.
 */
export function searchSortedLeft(sorted: ArrayLike<number>, value: number, from = 0, length = sorted.length): number {
  let i = from;
  while (i < length && sorted[i]! < value) i++;
  return i;
}
