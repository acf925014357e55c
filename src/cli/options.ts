/** Parsers for option values shared by commands; each throws UsageError naming the option. */
import { UsageError } from "../core/errors.js";

export function parseKList(option: string, text: string): number[] {
  const values = text.split(",").map((part) => part.trim());
  const ks = values.map(Number);
  if (values.some((v) => !/^\d+$/.test(v)) || ks.some((k) => k < 1)) {
    throw new UsageError(`${option}: expected positive integers separated by commas (e.g. 1,5,10), got ${JSON.stringify(text)}`);
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

export function parseNumberIn(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`${option}: expected a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function parseWholeNumber(option: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = parseNumberIn(option, text, min, max);
  if (!Number.isInteger(value)) throw new UsageError(`${option}: expected a whole number, got ${JSON.stringify(text)}`);
  return value;
}

export function parseChoice<T extends string>(option: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${option}: expected one of ${choices.join(", ")}, got ${JSON.stringify(text)}`);
}

/** `--phrases "cat, remote control"`: the phrases, trimmed, none empty. */
export function parsePhraseList(option: string, value: string): string[] {
  const list = value.split(",").map((p) => p.trim()).filter(Boolean);
  if (list.length === 0) throw new UsageError(`${option}: expected phrases separated by commas, got ${JSON.stringify(value)}`);
  return list;
}

/**
 * A fraction written as a decimal number (`0.1`, `1e-2`, `1`): what Python's float() reads, less
 * the spellings nobody means here (`inf`, `nan`, `1_0`, hex). Above 1 is not refused here: MDETR's
 * sampler runs while int(images x fraction) is not more than the images (1.005 of 64 images is 64).
 */
export function parseFraction(option: string, text: string): number {
  const value = Number(text.trim());
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text) || !(value > 0 && Number.isFinite(value))) {
    throw new UsageError(`${option}: expected a fraction greater than 0 (e.g. 0.01, 0.1, 1), got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Any integer, as Python's int() reads a decimal one (`42`, `-7`, `18446744073709551616`). */
export function parseInteger(option: string, text: string): bigint {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) throw new UsageError(`${option}: expected an integer, got ${JSON.stringify(text)}`);
  return BigInt(trimmed);
}

/** `--shard K/N`: the K-th (from 1) of N blocks. */
export function parseShard(option: string, text: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !(count >= 1) || !(index >= 1 && index <= count)) {
    throw new UsageError(`${option}: expected K/N with 1 <= K <= N (e.g. 3/8; a 0-based index such as JOB_COMPLETION_INDEX needs + 1), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/** `--image-threads`: "auto" or a whole number from 0 (none) to 64. */
export function parseImageThreads(option: string, text: string): number | "auto" {
  return text === "auto" ? "auto" : parseWholeNumber(option, text, 0, 64);
}

/** `--threads`: "auto" or a whole number from 1 to 64. */
export function parseThreads(option: string, text: string): number | "auto" {
  return text === "auto" ? "auto" : parseWholeNumber(option, text, 1, 64);
}
