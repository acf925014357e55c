import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { readJson, type JsonKey } from "../src/datasets/json-reader.js";
import { InputError } from "../src/errors.js";
import { splitJson, SplitSyntaxError } from "../src/datasets/json-splitter.js";
import { tempDir } from "./helpers.js";


function fileWith(content: string | Uint8Array): string {
  const path = join(tempDir(), "input.json");
  writeFileSync(path, content);
  return path;
}

async function collect(file: string, selectors: string[]) {
  const visits: [string, JsonKey, unknown][] = [];
  const result = await readJson(file, Object.fromEntries(selectors.map((s) => [s, (value: unknown, key: JsonKey) => visits.push([s, key, value])])));
  return { visits, containers: Object.fromEntries(result.containers), engine: result.engine };
}

for (const engine of ["parse", "split", "stream"] as const) {
  describe(`JSON reader (${engine} engine)`, () => {
    afterEach(() => {
      delete process.env["MDETR_JSON_ENGINE"];
    });
    const withEngine = async <T>(run: () => Promise<T>): Promise<T> => {
      process.env["MDETR_JSON_ENGINE"] = engine;
      return run();
    };

    it("visits the elements of selected containers in document order", async () => {
      const file = fileWith(JSON.stringify({ info: { a: 1 }, images: [{ id: 1 }, { id: 2 }], annotations: [{ id: 7, bbox: [1, 2, 3, 4] }] }));
      const got = await withEngine(() => collect(file, ["$.images.*", "$.annotations.*"]));
      assert.equal(got.engine, engine);
      assert.deepEqual(got.visits, [
        ["$.images.*", 0, { id: 1 }],
        ["$.images.*", 1, { id: 2 }],
        ["$.annotations.*", 0, { id: 7, bbox: [1, 2, 3, 4] }],
      ]);
      assert.deepEqual(got.containers, { "$.images": "array", "$.annotations": "array" });
    });

    it("reports top-level object entries with their keys, and missing or empty containers", async () => {
      const got = await withEngine(() => collect(fileWith('{"768": {"scores": []}, "x": 1}'), ["$.*"]));
      assert.deepEqual(got.visits, [["$.*", "768", { scores: [] }], ["$.*", "x", 1]]);
      assert.deepEqual(got.containers, { $: "object" });
      const empty = await withEngine(() => collect(fileWith('{"images": []}'), ["$.images.*", "$.annotations.*"]));
      assert.deepEqual(empty.containers, { "$.images": "array", "$.annotations": "missing" });
    });

    it("turns 1e400 into Infinity for the caller to reject", async () => {
      const got = await withEngine(() => collect(fileWith("[1e400, -1e400]"), ["$.*"]));
      assert.deepEqual(got.visits.map((v) => v[2]), [Infinity, -Infinity]);
    });

    it("rejects invalid UTF-8 with an input error naming the file", async () => {
      const file = fileWith(Buffer.concat([Buffer.from('["ok", "'), Buffer.from([0xff, 0xfe]), Buffer.from('"]')]));
      await assert.rejects(withEngine(() => collect(file, ["$.*"])), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /input\.json: not valid UTF-8/);
        return true;
      });
    });

    it("takes a scalar root and reports it", async () => {
      const got = await withEngine(() => collect(fileWith(" 42 "), ["$.*"]));
      assert.deepEqual(got.visits, []);
      assert.deepEqual(got.containers, { $: "other" });
    });

    it("handles keys with escapes, nested containers and strings with brackets", async () => {
      const text = '{"im\\u0061ges": [{"c": "a]},[\\"x"}], "annotations": {"k": [1, {"z": "}"}]}, "other": [[1]]}';
      const got = await withEngine(() => collect(fileWith(text), ["$.images.*", "$.annotations.*"]));
      assert.deepEqual(got.visits, [
        ["$.images.*", 0, { c: 'a]},["x' }],
        ["$.annotations.*", "k", [1, { z: "}" }]],
      ]);
      assert.deepEqual(got.containers, { "$.images": "array", "$.annotations": "object" });
    });

    for (const bad of ["[1, 2", "[NaN]", '{"a": 1,}', "[1] [2]", "nul", "[1,]", "[,1]", "]", '{"images": [1}']) {
      it(`rejects invalid JSON ${JSON.stringify(bad)}`, async () => {
        await assert.rejects(withEngine(() => collect(fileWith(bad), ["$.*"])), (error: unknown) => {
          assert.ok(error instanceof InputError, String(error));
          assert.match(error.message, /input\.json: invalid JSON/);
          return true;
        });
      });
    }
  });
}

describe("JSON splitter batches", () => {
  // Tiny batches force a cut at nearly every comma, so the cut logic is exercised on small files.
  const split = async (text: string, rootKey?: string) => {
    const visits: [JsonKey, unknown][] = [];
    const containers = await splitJson(fileWith(text), [{ rootKey, visit: (value, key) => visits.push([key, value]) }], 4);
    return { visits, containers: Object.fromEntries(containers) };
  };

  it("visits every element once, in order, across cuts", async () => {
    const values = Array.from({ length: 50 }, (_, i) => ({ i, s: "x,y]".repeat(i % 3) }));
    const got = await split(JSON.stringify(values));
    assert.deepEqual(got.visits, values.map((v, i) => [i, v]));
    const object = await split(JSON.stringify({ images: values, tail: 1 }), "images");
    assert.deepEqual(object.visits.length, 50);
    assert.deepEqual(object.containers, { "$.images": "array" });
  });

  for (const bad of ["[1,2,3,]", "[1,,2]", '{"a":1,"b":2,}', "[1,2] x"]) {
    it(`rejects ${bad} even where a cut falls on the bad comma`, async () => {
      await assert.rejects(split(bad), SplitSyntaxError);
    });
  }
});
