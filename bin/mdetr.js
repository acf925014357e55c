#!/usr/bin/env node
import { main } from "../dist/src/cli/main.js";

// `mdetr ... | head` closes stdout early; that is the reader's choice, not a failure.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  process.stderr.write(`mdetr: error: cannot write to stdout: ${error.code ?? error.message}\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
