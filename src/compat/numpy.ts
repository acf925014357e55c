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

/** pairwise_sum's block: up to this many values are summed in eight interleaved partial sums. */
const PAIRWISE_BLOCK = 128;
/** NPY_BUFSIZE: a reduction's inner loop sees at most this many elements at a time. */
const REDUCE_CHUNK = 8192;

/**
 * np.add.reduce (np.sum) of the float64 run values[from, from + n), as numpy computes it: the
 * reduction's iterator hands the run to the inner loop in chunks of NPY_BUFSIZE (8,192) elements;
 * each chunk is summed pairwise (pairwise_sum) and added, one after another, to the result, which
 * starts at the identity (0; -0 from numpy 1.25, which changes no non-zero sum). np.mean of a
 * float64 array is this sum divided by the count. Checked bit for bit against numpy 1.24.2
 * (test/fixtures/numpy/pairwise-sum.py).
 */
export function addReduce(values: Float64Array, from: number, n: number): number {
  let sum = 0;
  for (let at = 0; at < n; at += REDUCE_CHUNK) sum += pairwiseSum(values, from + at, Math.min(REDUCE_CHUNK, n - at));
  return sum;
}

/**
 * addReduce over a run of n values that is not in memory as one array: `fill` writes values
 * [start, start + length) of the run into `chunk` from 0, one reduction chunk at a time, so the
 * run never needs more than 64 KB.
 */
export function addReduceOf(n: number, fill: (chunk: Float64Array, start: number, length: number) => void): number {
  const chunk = new Float64Array(Math.min(n, REDUCE_CHUNK));
  let sum = 0;
  for (let at = 0; at < n; at += REDUCE_CHUNK) {
    const length = Math.min(REDUCE_CHUNK, n - at);
    fill(chunk, at, length);
    sum += pairwiseSum(chunk, 0, length);
  }
  return sum;
}

/**
 * pairwise_sum (numpy/core/src/umath/loops_utils.h.src): fewer than 8 values one after another; up
 * to 128 in eight partial sums (value i into sum i % 8), combined ((s0 + s1) + (s2 + s3)) + ((s4 +
 * s5) + (s6 + s7)), then the rest one after another; more, as the sums of two halves split at a
 * multiple of 8.
 */
function pairwiseSum(values: Float64Array, from: number, n: number): number {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[from + i]!;
    return sum;
  }
  if (n <= PAIRWISE_BLOCK) {
    let s0 = values[from]!, s1 = values[from + 1]!, s2 = values[from + 2]!, s3 = values[from + 3]!;
    let s4 = values[from + 4]!, s5 = values[from + 5]!, s6 = values[from + 6]!, s7 = values[from + 7]!;
    const whole = n - (n % 8);
    let i = 8;
    for (; i < whole; i += 8) {
      const at = from + i;
      s0 += values[at]!;
      s1 += values[at + 1]!;
      s2 += values[at + 2]!;
      s3 += values[at + 3]!;
      s4 += values[at + 4]!;
      s5 += values[at + 5]!;
      s6 += values[at + 6]!;
      s7 += values[at + 7]!;
    }
    let sum = s0 + s1 + (s2 + s3) + (s4 + s5 + (s6 + s7));
    for (; i < n; i++) sum += values[from + i]!;
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(values, from, half) + pairwiseSum(values, from + half, n - half);
}
