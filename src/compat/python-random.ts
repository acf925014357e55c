/**
 * CPython's `random` module, as far as MDETR's LVIS sampler uses it: `random.seed(int)` and
 * `random.choice(list)`. The sampler's picks depend on every detail below, so each one follows
 * CPython 3.11 (Modules/_randommodule.c, Lib/random.py) and not the usual JavaScript shortcuts.
 */

const N = 624;
const M = 397;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

/** Mersenne Twister MT19937 seeded and drawn the way CPython's `random.Random` is. */
export class PythonRandom {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;

  /** `random.seed(seed)` for an int seed. */
  constructor(seed: bigint | number) {
    this.initByArray(seedKey(BigInt(seed)));
  }

  /** genrand_uint32: the next 32-bit output (the reference MT19937 tempering). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * `random.getrandbits(k)` for 1 <= k <= 32: the high k bits of one output
   * (_random_Random_getrandbits_impl: `genrand_uint32(self) >> (32 - k)`).
   */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 1 || k > 32) throw new RangeError(`getrandbits: k must be in 1..32, got ${k}`);
    return this.nextUint32() >>> (32 - k);
  }

  /**
   * `Random._randbelow_with_getrandbits(n)`: k = n.bit_length() bits per draw (not (n-1)'s), drawn
   * again while the value is >= n. So n = 1 still draws (half of them rejected), and n = 2^m
   * uses m + 1 bits.
   */
  randbelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError(`randbelow: n must be in 1..2^32-1, got ${n}`);
    const k = 32 - Math.clz32(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** The index `random.choice(seq)` takes for a sequence of `length` items (`seq[_randbelow(len(seq))]`). */
  choiceIndex(length: number): number {
    if (length === 0) throw new RangeError("Cannot choose from an empty sequence");
    return this.randbelow(length);
  }

  /** init_genrand(s). */
  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.index = N;
  }

  /** init_by_array(key): what random_seed calls with the seed's 32-bit words. */
  private initByArray(key: Uint32Array): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = UPPER_MASK;
    this.index = N;
  }

  private twist(): void {
    const mt = this.mt;
    for (let kk = 0; kk < N; kk++) {
      const y = (mt[kk]! & UPPER_MASK) | (mt[(kk + 1) % N]! & LOWER_MASK);
      mt[kk] = (mt[(kk + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    this.index = 0;
  }
}

/**
 * random_seed's key for an int: |seed| as little-endian 32-bit words, at least one
 * (`0` -> [0], `42` -> [42], `2**32 + 1001` -> [1001, 1]); a negative seed acts as its absolute value.
 */
export function seedKey(seed: bigint): Uint32Array {
  let n = seed < 0n ? -seed : seed;
  const words: number[] = [];
  do {
    words.push(Number(n & 0xffffffffn));
    n >>= 32n;
  } while (n > 0n);
  return Uint32Array.from(words);
}
