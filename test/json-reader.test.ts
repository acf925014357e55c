import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readJson, readRawElements, type JsonEngine, type JsonKey } from "../src/json/reader.js";
import { createHash } from "node:crypto";
import { InputError } from "../src/core/errors.js";
import { ContentHash, InputLog, THREADED_HASH_BYTES, ThreadedHash } from "../src/core/inputs.js";
import { splitJson, SplitSyntaxError } from "../src/json/splitter.js";
import { INCOMPLETE, skipJsonValue, SkippedValueProblem } from "../src/json/skip-value.js";
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
      // 0: every file on the hashing thread, as files of THREADED_HASH_BYTES and more are.
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

describe("skipped members (checked, handed over as null)", () => {
  const annotations = [
    { id: 1, segmentation: [[1.5, 2, 3e-7, -4], [5, 6]], bbox: [1, 2, 3, 4] },
    { id: 2, bbox: [0, 0, 1, 1] },
    { segmentation: { counts: "a\u00e9\"b ]}", size: [2, 3] }, id: 3 },
    { id: 4, segmentation: null },
    { id: 5, segmentation: "plain" },
  ];
  const text = `{"annotations": [${annotations.map((a) => JSON.stringify(a).replace(/,/g, " ,\n ")).join(",")}], "images": []}`;
  const readings = [...(["parse", "split", "stream"] as const).map((engine) => ({ engine })), { engine: "split" as const, batchBytes: 5 }];
  for (const settings of readings) {
    const name = `${settings.engine}${"batchBytes" in settings ? ", 5-byte batches and reads" : ""}`;
    it(`${name}: every other member as parsed, the skipped one null`, async () => {
      const seen: unknown[] = [];
      await readJson(fileWith(text), { "$.annotations.*": (v) => seen.push(v) }, settings, { skip: { annotations: "segmentation" } });
      assert.deepEqual(seen, annotations.map((a) => ("segmentation" in a ? { ...a, segmentation: null } : a)));
    });

    it(`${name}: a number out of range in a skipped member names its place`, async () => {
      const bad = text.replace("3e-7", "3e400");
      await assert.rejects(readJson(fileWith(bad), { "$.annotations.*": () => {} }, settings, { skip: { annotations: "segmentation" } }), (error: unknown) => {
        assert.ok(error instanceof InputError, String(error));
        assert.match(error.message, /annotations\[0\]\.segmentation\[0\]\[2\]: expected a finite number, got a number out of range/);
        return true;
      });
    });

    for (const broken of ["[1, 2,]", "[01]", "[1.]", "[-]", "[1e]", '["\\x"]', "[tru]", "[1 2]", '{"a" 1}', "[1]]", "[1,.5]", "[1,+2]", "[1,e2]", "[1}", "[-01]", "[1.5.2]"]) {
      it(`${name}: refuses ${broken} in a skipped member`, async () => {
        const bad = `{"annotations": [{"id": 1, "segmentation": ${broken}}]}`;
        await assert.rejects(readJson(fileWith(bad), { "$.annotations.*": () => {} }, settings, { skip: { annotations: "segmentation" } }), InputError);
      });
    }
  }

  it("split: the offsets around each element give back its bytes", async () => {
    const file = fileWith(text);
    const result = await readJson(file, { "$.annotations.*": () => {}, "$.images.*": () => {} }, { engine: "split", batchBytes: 9 }, { skip: { annotations: "segmentation" }, offsets: ["annotations", "images"] });
    const bytes = Buffer.from(text);
    const at = result.offsets.get("annotations")!;
    assert.equal(at.length, annotations.length + 1);
    assert.deepEqual(Array.from({ length: annotations.length }, (_, k) => JSON.parse(bytes.subarray(at[k]! + 1, at[k + 1]).toString())), annotations);
    assert.deepEqual([...result.offsets.get("images")!].map((o) => String.fromCharCode(bytes[o]!)), ["[", "]"]);
  });
});

describe("skipJsonValue", () => {
  const values = ['[[1.5,-2e+3,0.25E-2],[]]', '{"a":[true,false,null],"b":{"c":"\\u00e9\\n"}}', '"x\\"y"', "-0", "123", "[ 1 , 2 ]", "{ }", "1e308", "-1.7976931348623157e308", "[1e5,2E-3,-0.5e+2,0,-0, 7 ]", "[[1,2],[3.25,[4]],5,\"s\",{}]", `[${"9".repeat(300)},${"9".repeat(308)}.5]`];
  for (const value of values) {
    it(`${value}: ends where it ends; every shorter prefix is incomplete`, () => {
      const bytes = Buffer.from(`${value} ,`);
      assert.equal(skipJsonValue(bytes, 0, bytes.length), value.length);
      assert.equal(skipJsonValue(bytes, 0, value.length, true), value.length);
      for (let cut = 1; cut < value.length; cut++) {
        try {
          assert.equal(skipJsonValue(bytes, 0, cut), INCOMPLETE, `prefix ${value.slice(0, cut)}`);
        } catch (error) {
          assert.fail(`prefix ${value.slice(0, cut)} threw ${String(error)}`);
        }
      }
    });
  }
  for (const value of ["1e400", "-1e309", "17976931348623159" + "0".repeat(292)]) {
    it(`${value.slice(0, 12)}...: out of range, as JSON.parse would read it`, () => {
      assert.throws(() => skipJsonValue(Buffer.from(`[${value}]`), 0, value.length + 2, true), (e: unknown) => e instanceof SkippedValueProblem && e.kind === "non-finite");
    });
  }
  it("a bad UTF-8 byte in a string, and a raw control character", () => {
    assert.throws(() => skipJsonValue(Buffer.from([0x22, 0xff, 0x22]), 0, 3, true), SkippedValueProblem);
    assert.throws(() => skipJsonValue(Buffer.from('"a\tb"'), 0, 5, true), SkippedValueProblem);
  });
});

describe("skipped members: the split engine agrees with JSON.parse at every batch size", () => {
  const outcome = async (content: string | Buffer, settings: { engine: JsonEngine; batchBytes?: number }) => {
    const seen: unknown[] = [];
    try {
      await readJson(fileWith(content), { "$.annotations.*": (v) => seen.push(v) }, settings, { skip: { annotations: "segmentation" } });
      return { seen };
    } catch (error) {
      assert.ok(error instanceof InputError, `an input error, got ${String(error)}`);
      // Where the error is, and for numbers out of range which one; syntax messages differ by engine.
      return { error: /expected a finite number/.test(error.detail) ? `${error.where}: ${error.detail}` : "invalid JSON" };
    }
  };
  const cases = {
    "an object value cut after a comma": '{"annotations":[{"id":1,"segmentation":{"a":1,"b":2}}]}',
    "a number out of range, then bad syntax": '{"annotations":[{"id":1,"segmentation":[1e400,]}]}',
    "a long number out of range, then a bad byte": Buffer.concat([Buffer.from(`{"annotations":[{"id":1,"segmentation":[${"9".repeat(309)},"`), Buffer.from([0xff]), Buffer.from('"]}]}')]),
    "members of an object container": '{"annotations":{"a":{"segmentation":[1]},"b":{"segmentation":[1e400]}}}',
    "RLE with an object": '{"annotations":[{"segmentation":{"counts":"ab\\"c","size":[1,2]},"id":1},{"id":2,"segmentation":[[1,2e3,3]]}]}',
  };
  for (const [name, content] of Object.entries(cases)) {
    it(name, async () => {
      const label = typeof content === "string" ? content : content.toString("latin1");
      const expected = await outcome(content, { engine: "parse" });
      for (let batchBytes = 1; batchBytes <= 64; batchBytes++) {
        assert.deepEqual(await outcome(content, { engine: "split", batchBytes }), expected, `${batchBytes}-byte batches of ${label.slice(0, 60)}`);
      }
      assert.deepEqual(await outcome(content, { engine: "split" }), expected);
      assert.deepEqual(await outcome(content, { engine: "stream" }), expected);
    });
  }

  it("offsets of an empty array: two entries, no element", async () => {
    const result = await readJson(fileWith('{"annotations": [ ]}'), { "$.annotations.*": () => assert.fail("no element") }, { engine: "split" }, { offsets: ["annotations"] });
    assert.deepEqual([...result.offsets.get("annotations")!], [16, 18]);
  });
});
