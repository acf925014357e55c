/**
 * Checks on values parsed from JSON. Each returns a problem description, or undefined when the value
 * is fine, so hot loops build an error path only when something is wrong.
 */

export function describeJsonValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : Number.isFinite(value) ? String(value) : "a number out of range";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value)}`;
  return typeof value === "object" ? "an object" : typeof value;
}

/** A JSON number that is finite: not a string, not null, not 1e400 (which parses to Infinity). */
export function finiteNumberProblem(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return undefined;
  return `expected a finite number, got ${describeJsonValue(value)}`;
}

/**
 * An id as COCO-style files hold them: a JSON number that is an integer (768, not 768.5, "768" or
 * 1e400). Ids are matched by value, so a fractional one would silently match nothing.
 */
export function integerProblem(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return undefined;
  return `expected an integer id, got ${describeJsonValue(value)}`;
}

/** An object key that stands for an integer id: its decimal text (`"768"`, `"-3"`; not `"768.5"` or `" 768"`). */
export function integerKeyProblem(key: string): string | undefined {
  if (/^-?\d+$/.test(key)) return undefined;
  return `expected an integer id as the key, got ${describeJsonValue(key)}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function objectProblem(value: unknown): string | undefined {
  return isRecord(value) ? undefined : `expected an object, got ${describeJsonValue(value)}`;
}

/** Exactly four finite numbers; returns which one is wrong. */
export function box4Problem(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length !== 4) return `expected 4 numbers, got ${describeJsonValue(value)}`;
  for (let i = 0; i < 4; i++) {
    const problem = finiteNumberProblem(value[i]);
    if (problem) return `[${i}]: ${problem}`;
  }
  return undefined;
}

/** A COCO `[x, y, w, h]` box: four finite numbers with width and height >= 0 (zero is fine). */
export function cocoBoxProblem(value: unknown): string | undefined {
  const problem = box4Problem(value);
  if (problem) return problem;
  const [x, y, w, h] = value as [number, number, number, number];
  return w < 0 || h < 0 ? `width and height must be >= 0, got [${x}, ${y}, ${w}, ${h}]` : undefined;
}

/**
 * The path below `value` of its first number that is not finite (`.segmentation[0][3]`; "" for
 * the value itself), or undefined. JSON.parse reads 1e400 as Infinity, which JSON.stringify
 * writes as null: values copied to an output are checked with this first.
 */
export function nonFiniteNumberPath(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : "";
  if (value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // Polygons are long lists of numbers: test those without a call.
      if (typeof item === "number") {
        if (!Number.isFinite(item)) return `[${i}]`;
        continue;
      }
      const below = nonFiniteNumberPath(item);
      if (below !== undefined) return `[${i}]${below}`;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const below = nonFiniteNumberPath(item);
    if (below !== undefined) return `${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}${below}`;
  }
  return undefined;
}
