/**
 * The one-way layout of src/ (README: Development), checked by `npm test` (test/layout.test.ts):
 *   cli -> evaluation / inference / merge / convert -> formats, metrics -> json, compat -> core
 * A module may import its own layer's folder and any layer below it, never above or sideways,
 * and no import cycle is allowed. Type-only imports count: they couple modules just the same.
 */
const layer = (folders) => `^src/(${folders.join("|")})/`;
const WORKFLOWS = ["evaluation", "inference", "merge", "convert"];

/** `from` may not import any of `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from: { path: layer(from) }, to: { path: layer(to) } });

module.exports = {
  forbidden: [
    { name: "no-cycles", comment: "an import cycle ties modules into one", severity: "error", from: {}, to: { circular: true } },
    forbid("core-is-the-base", "core imports nothing else of src/", ["core"], ["cli", ...WORKFLOWS, "formats", "metrics", "json", "compat"]),
    forbid("compat-on-core-only", "the mirrored Python / numpy / torch behaviours depend on core alone", ["compat"], ["cli", ...WORKFLOWS, "formats", "metrics", "json"]),
    forbid("json-on-core-only", "the JSON reader knows no dataset", ["json"], ["cli", ...WORKFLOWS, "formats", "metrics", "compat"]),
    forbid("metrics-are-pure", "metrics are pure functions over plain data: no file formats, no JSON", ["metrics"], ["cli", ...WORKFLOWS, "formats", "json"]),
    forbid("formats-below-workflows", "readers and writers know nothing of metrics or the commands", ["formats"], ["cli", ...WORKFLOWS, "metrics"]),
    ...WORKFLOWS.map((w) => forbid(`${w}-stands-alone`, "workflows meet only in cli/", [w], ["cli", ...WORKFLOWS.filter((o) => o !== w)])),
    { name: "src-not-on-tests", severity: "error", from: { path: "^src/" }, to: { path: "^(test|bench|tools)/" } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // TypeScript 7 has no JavaScript API; swc parses the sources, type-only imports included.
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
