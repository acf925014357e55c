import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { readJson, type JsonKey } from "../src/datasets/json-reader.js";
import { InputError } from "../src/errors.js";
import { tempDir } from "./helpers.js";

const engines = { parse: undefined, stream: "0" } as const;

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

for (const [engine, threshold] of Object.entries(engines)) {
  describe(`JSON reader (${engine} engine)`, () => {
    const saved = process.env["MDETR_JSON_STREAM_THRESHOLD"];
    if (threshold === undefined) delete process.env["MDETR_JSON_STREAM_THRESHOLD"];
    afterEach(() => {
      if (saved === undefined) delete process.env["MDETR_JSON_STREAM_THRESHOLD"];
      else process.env["MDETR_JSON_STREAM_THRESHOLD"] = saved;
    });
    const withEngine = async <T>(run: () => Promise<T>): Promise<T> => {
      if (threshold === undefined) delete process.env["MDETR_JSON_STREAM_THRESHOLD"];
      else process.env["MDETR_JSON_STREAM_THRESHOLD"] = threshold;
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

    for (const bad of ["[1, 2", "[NaN]", '{"a": 1,}', "[1] [2]", "nul"]) {
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
