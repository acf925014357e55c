#!/usr/bin/env node
// `mdetr --version` alone answers before the CLI's modules load (they are most of its start-up).
if (process.argv.length === 3 && (process.argv[2] === "--version" || process.argv[2] === "-V")) {
  const { readFileSync } = await import("node:fs");
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`);
} else {
  const { main } = await import("../dist/src/cli/main.js");

  // `mdetr ... | head` closes stdout early; that is the reader's choice, not a failure.
  process.stdout.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(0);
    process.stderr.write(`mdetr: error: cannot write to stdout: ${error.code ?? error.message}\n`);
    process.exit(1);
  });

  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
}
