import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readJson, readRawElements, type JsonEngine, type JsonKey } from "../src/json/reader.js";
import { createHash } from "node:crypto";
import { InputError } from "../src/core/errors.js";
import { ContentHash, InputLog, THREADED_HASH_BYTES, ThreadedHash } from "../src/core/inputs.js";
import { splitJson, SplitSyntaxError } from "../src/json/splitter.js";
import { tempDir } from "./helpers.js";


function fileWith(content: string | Uint8Array): string {
  const path = join(tempDir(), "input.json");
  writeFileSync(path, content);
  return path;
}

async function collect(file: string, selectors: string[], engine?: JsonEngine) {
  const visits: [string, JsonKey, unknown][] = [];
  const result = await readJson(file, Object.fromEntries(selectors.map((s) => [s, (value: unknown, key: JsonKey) => visits.push([s, key, value])])), engine ? { engine } : {});
  return { visits, containers: Object.fromEntries(result.containers), engine: result.engine };
}

for (const engine of ["parse", "split", "stream"] as const) {
  describe(`JSON reader (${engine} engine)`, () => {
    const read = (file: string, selectors: string[]) => collect(file, selectors, engine);

    it("visits the elements of selected containers in document order", async () => {
      const file = fileWith(JSON.stringify({ info: { a: 1 }, images: [{ id: 1 }, { id: 2 }], annotations: [{ id: 7, bbox: [1, 2, 3, 4] }] }));
      const got = await read(file, ["$.images.*", "$.annotations.*"]);
      assert.equal(got.engine, engine);
      assert.deepEqual(got.visits, [
        ["$.images.*", 0, { id: 1 }],
        ["$.images.*", 1, { id: 2 }],
        ["$.annotations.*", 0, { id: 7, bbox: [1, 2, 3, 4] }],
      ]);
      assert.deepEqual(got.containers, { "$.images": "array", "$.annotations": "array" });
    });

    it("reports top-level object entries with their keys, and missing or empty containers", async () => {
      const got = await read(fileWith('{"768": {"scores": []}, "x": 1}'), ["$.*"]);
      assert.deepEqual(got.visits, [["$.*", "768", { scores: [] }], ["$.*", "x", 1]]);
      assert.deepEqual(got.containers, { $: "object" });
      const empty = await read(fileWith('{"images": []}'), ["$.images.*", "$.annotations.*"]);
      assert.deepEqual(empty.containers, { "$.images": "array", "$.annotations": "missing" });
    });

    it("returns the top-level values asked for with keep, whatever their kind", async () => {
      const file = fileWith(JSON.stringify({ info: { a: [1, { b: 2 }] }, images: [{ id: 1 }], licenses: "none", n: null }));
      for (const keep of [["info"], ["licenses", "n", "absent"]]) {
        const result = await readJson(file, { "$.images.*": () => {} }, { engine }, { keep });
        const expected = Object.entries({ info: { a: [1, { b: 2 }] }, licenses: "none", n: null }).filter(([key]) => keep.includes(key));
        assert.deepEqual([...result.values].sort(), expected.sort());
      }
    });

    it("turns 1e400 into Infinity for the caller to reject", async () => {
      const got = await read(fileWith("[1e400, -1e400]"), ["$.*"]);
      assert.deepEqual(got.visits.map((v) => v[2]), [Infinity, -Infinity]);
    });

    it("rejects invalid UTF-8 with an input error naming the file", async () => {
      const file = fileWith(Buffer.concat([Buffer.from('["ok", "'), Buffer.from([0xff, 0xfe]), Buffer.from('"]')]));
      await assert.rejects(read(file, ["$.*"]), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /input\.json: not valid UTF-8/);
        return true;
      });
    });

    it("takes a scalar root and reports it", async () => {
      const got = await read(fileWith(" 42 "), ["$.*"]);
      assert.deepEqual(got.visits, []);
      assert.deepEqual(got.containers, { $: "other" });
    });

    it("handles keys with escapes, nested containers and strings with brackets", async () => {
      const text = '{"im\\u0061ges": [{"c": "a]},[\\"x"}], "annotations": {"k": [1, {"z": "}"}]}, "other": [[1]]}';
      const got = await read(fileWith(text), ["$.images.*", "$.annotations.*"]);
      assert.deepEqual(got.visits, [
        ["$.images.*", 0, { c: 'a]},["x' }],
        ["$.annotations.*", "k", [1, { z: "}" }]],
      ]);
      assert.deepEqual(got.containers, { "$.images": "array", "$.annotations": "object" });
    });

    for (const bad of ["[1, 2", "[NaN]", '{"a": 1,}', "[1] [2]", "nul", "[1,]", "[,1]", "]", '{"images": [1}']) {
      it(`rejects invalid JSON ${JSON.stringify(bad)}`, async () => {
        await assert.rejects(read(fileWith(bad), ["$.*"]), (error: unknown) => {
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
    const { kinds: containers } = await splitJson(fileWith(text), [{ rootKey, visit: (value, key) => visits.push([key, value]) }], 4);
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

describe("raw elements (a second pass copying elements unparsed)", () => {
  const elements = [{ id: 1, s: "a, ]}" }, [1, [2, { x: "\\\"" }]], "plain", 3.25e-7, null, { nested: { deep: [[], {}] } }];
  const text = `{ "info" : {"v": [1,2]},\n "images" :\t[ ${elements.map((e) => JSON.stringify(e)).join(" ,\n  ")} ] , "annotations": [], "other": [ {"a": 1} ] }`;

  for (const batchBytes of [1, 3, 7, 1 << 20]) {
    it(`hands over each element's bytes, trimmed, across batches of ${batchBytes} bytes`, async () => {
      const seen: Record<string, string[]> = { images: [], annotations: [] };
      const counts = await readRawElements(fileWith(text), {
        images: (element, index) => {
          assert.equal(index, seen["images"]!.length);
          seen["images"]!.push(Buffer.from(element).toString("utf8"));
        },
        annotations: (element) => seen["annotations"]!.push(Buffer.from(element).toString("utf8")),
      }, { batchBytes });
      assert.deepEqual(seen["images"], elements.map((e) => JSON.stringify(e)));
      assert.deepEqual(seen["annotations"], []);
      assert.deepEqual(Object.fromEntries(counts), { images: elements.length, annotations: 0 });
    });
  }
});

describe("repeated keys and byte-order marks", () => {

  for (const engine of ["split", "stream"] as const) {
    const read = (text: string | Uint8Array, selectors: string[]) => collect(fileWith(text), selectors, engine);
    const refused = (where: RegExp) => (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.match(error.message, where);
      assert.match(error.message, /a key given twice in one object/);
      return true;
    };

    it(`${engine}: refuses a key given twice in a streamed object`, async () => {
      await assert.rejects(read('{"1": {"a": 1}, "2": 2, "1": {"a": 3}}', ["$.*"]), refused(/input\.json: \["1"\]: /));
    });

    it(`${engine}: refuses a selected container given twice at the top level`, async () => {
      await assert.rejects(read('{"images": [1], "annotations": [], "images": [2]}', ["$.images.*"]), refused(/input\.json: images: given twice at the top level/));
    });

    it(`${engine}: accepts one leading byte-order mark but no U+FEFF elsewhere`, async () => {
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      const got = await read(Buffer.concat([bom, Buffer.from("[1, 2]")]), ["$.*"]);
      assert.deepEqual(got.visits.map((v) => v[2]), [1, 2]);
      // A key that starts with U+FEFF is another key, not "images". (@streamparser/json drops a
      // U+FEFF that starts a string, so only the splitter, the engine every command uses, gets this.)
      if (engine === "split") {
        const other = await read(Buffer.concat([Buffer.from('{"'), bom, Buffer.from('images": [1], "images": [2]}')]), ["$.images.*"]);
        assert.deepEqual(other.visits.map((v) => v[2]), [2]);
      }
    });
  }

  it("split: refuses U+FEFF between elements, which JSON does not allow", async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    await assert.rejects(collect(fileWith(Buffer.concat([Buffer.from("["), bom, Buffer.from("1]")])), ["$.*"]), InputError);
    await assert.rejects(collect(fileWith(Buffer.concat([bom, bom, Buffer.from("[1]")])), ["$.*"]), InputError);
  });

  it("split: finds a repeated key inside one batch and across batches", async () => {
    const visit = () => {};
    const within = '{"a": 1, "b": 2, "a": 3}';
    await assert.rejects(splitJson(fileWith(within), [{ rootKey: undefined, visit }]), /a key given twice/);
    await assert.rejects(splitJson(fileWith(within), [{ rootKey: undefined, visit }], 4), /a key given twice/);
  });
});

describe("input hashes", () => {
  it("a thread's SHA-256 equals this thread's, across slices and after a reset", async () => {
    const big = Buffer.alloc(20 << 20, 7);
    big[12345] = 1;
    const expected = createHash("sha256").update(big).update("tail").digest("hex");
    for (const hash of [new ThreadedHash(), new ContentHash()]) {
      hash.update(Buffer.from("thrown away"));
      hash.reset();
      hash.update(big);
      hash.update(Buffer.from("tail"));
      assert.deepEqual(await hash.digest(), { bytes: big.length + 4, sha256: expected });
      await hash.close();
    }
  });

  it("readJson records each file's size and hash, read once, on this thread or another", async () => {
    const text = JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ i, pad: "x".repeat(i % 70) })));
    const file = fileWith(text);
    const sha256 = createHash("sha256").update(text).digest("hex");
    for (const engine of ["split", "stream", "parse"] as const) {
      // 0: every file on the hashing thread, as files of 32 MiB and more are.
      for (const hashThreadBytes of [0, THREADED_HASH_BYTES]) {
        const inputs = new InputLog();
        let count = 0;
        await readJson(file, { "$.*": () => void count++ }, { engine, inputs, hashThreadBytes, batchBytes: 4096 });
        assert.equal(count, 5000);
        assert.deepEqual(inputs.get(file), { path: file, bytes: text.length, sha256, reader: engine });
      }
    }
  });
});
