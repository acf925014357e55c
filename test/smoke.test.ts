import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { COMMANDS, GROUPS, commandOf, loadCommands } from "../src/cli/commands/index.js";
import { fixtures, readJsonFile, repoRoot, runBinary, runCli, tempDir } from "./helpers.js";

describe("the command registry", () => {
  it("each entry loads the definition of its own path", async () => {
    const definitions = await loadCommands(COMMANDS);
    assert.deepEqual(definitions.map((d) => d.path), COMMANDS.map((c) => c.path));
  });

  it("a run loads only its command; help, a group alone or a typo load every one", () => {
    assert.deepEqual(commandOf(["eval", "flickr30k", "--flickr-dir", "x"])?.path, ["eval", "flickr30k"]);
    assert.deepEqual(commandOf(["--verbose", "merge-annotations", "a.json", "-o", "b.json"])?.path, ["merge-annotations"]);
    for (const args of [["eval", "flickr30k", "--help"], ["eval", "lvis", "-h"], ["eval"], ["eval", "flickr"], ["help", "eval"], ["flickr30k", "eval"], []]) {
      assert.equal(commandOf(args), undefined, args.join(" "));
    }
  });
});

// The other tests call main() in-process; these run the installed binary as a user would.
describe("the mdetr binary", () => {
  it("--version prints the package's version", () => {
    const run = runBinary(["--version"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), (readJsonFile(join(repoRoot, "package.json")) as { version: string }).version);
  });

  it("--help lists every command, with examples", () => {
    const run = runBinary(["--help"]);
    assert.equal(run.code, 0, run.stderr);
    for (const command of ["eval", "merge-annotations", "infer", "convert"]) assert.match(run.stdout, new RegExp(`\\n  ${command}\\b`));
    assert.match(run.stdout, /Examples:\n  \$ mdetr eval refcoco/);
  });

  it("a usage error is one line and exit code 2", () => {
    const run = runBinary(["eval", "refcoco", "--annotations", "a.json"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^mdetr: error: required option '--predictions <files...>' not specified \(see --help\)\n$/);
  });

  it("a mistyped command is one line with commander's suggestion, exit 2", () => {
    const run = runBinary(["eval", "flikr30k"]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, "mdetr: error: unknown command 'flikr30k' (Did you mean flickr30k?) (see --help)\n");
  });

  it("bad input: one line naming the file, exit 2, the stack only with --verbose", () => {
    const dir = tempDir();
    const args = ["eval", "refcoco", "--annotations", join(dir, "missing.json"), "--predictions", join(dir, "missing.json")];
    const plain = runBinary(args);
    assert.equal(plain.code, 2);
    assert.equal(plain.stderr.trim().split("\n").length, 1);
    assert.match(plain.stderr, /missing\.json: cannot read: ENOENT/);
    const verbose = runBinary(["--verbose", ...args]);
    assert.equal(verbose.code, 2);
    assert.match(verbose.stderr, /\n\s+at /);
  });

  it("a golden case through the binary writes its JSON with meta", () => {
    const dir = join(fixtures, "golden/refcoco/list_giou");
    const out = join(tempDir(), "out.json");
    const run = runBinary(["eval", "refcoco", "--annotations", "ann.json", "--predictions", "pred.json", "--match", "giou", "--json", out], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    const written = readJsonFile(out) as { meta: { command: string }; refcoco: { count: number } };
    assert.equal(written.meta.command, "eval refcoco");
    assert.equal(written.refcoco.count, 15);
    assert.match(run.stdout, /^Precision@k, a hit when GIoU >= 0\.5/);
  });
});

describe("every command", () => {
  for (const path of [...COMMANDS.map((c) => c.path), ...Object.keys(GROUPS).map((group) => [group])]) {
    it(`mdetr ${path.join(" ")} --help shows examples of itself`, async () => {
      const run = await runCli([...path, "--help"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`Examples:\\n(  \\$ mdetr .*\\n)*  \\$ mdetr ${path.join(" ")} `));
    });
  }
});

