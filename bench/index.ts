/** `npm run bench -- <name> [options]`: one benchmark per heavy command; each makes its own data. */
import { benchConvertLvis } from "./convert-lvis.js";
import { benchFlickr30k } from "./flickr30k.js";
import { benchInfer } from "./infer.js";
import { benchInferFlickr30k, benchInferLvis, benchInferRefcoco } from "./infer-bench.js";
import { benchLvis } from "./lvis.js";
import { benchLvisSegm } from "./lvis-segm.js";
import { benchMerge } from "./merge.js";
import { benchRefcoco } from "./refcoco.js";
import { benchRefcocoSegm } from "./refcoco-segm.js";

const benches: Record<string, (argv: string[]) => Promise<void>> = {
  "convert-lvis": benchConvertLvis,
  flickr30k: benchFlickr30k,
  infer: benchInfer,
  "infer-lvis": benchInferLvis,
  "infer-refcoco": benchInferRefcoco,
  "infer-flickr30k": benchInferFlickr30k,
  lvis: benchLvis,
  "lvis-segm": benchLvisSegm,
  merge: benchMerge,
  refcoco: benchRefcoco,
  "refcoco-segm": benchRefcocoSegm,
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : benches[name];
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join("|")}> [options]`);
  process.exitCode = 2;
} else {
  await bench(rest);
}
