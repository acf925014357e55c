/**
 * Prompts to token ids with each token's character span, through Hugging Face's own tokenizers
 * (the `tokenizers` package: the Rust library MDETR's RobertaTokenizerFast wraps), so byte-level
 * BPE (RoBERTa, MDETR) and WordPiece (BERT, Grounding DINO) both work from a tokenizer.json.
 */
import { Tokenizer } from "tokenizers";
import { UsageError } from "../core/errors.js";
import { InputLog, readWholeInput } from "../core/inputs.js";

export interface EncodedPrompt {
  text: string;
  ids: number[];
  /** Per token: [begin, end) in code points of the text, trimmed as trim_offsets does. */
  offsets: [number, number][];
  /** Per token: true for <s>, </s>, [CLS], [SEP] and the like, which never count for spans. */
  special: boolean[];
}

export interface PromptTokenizer {
  encode(text: string): Promise<EncodedPrompt>;
  /** Id used to pad shorter prompts in a batch. */
  padId: number;
}

/** Reads tokenizer.json once: hashed into `inputs` (under `path`) and parsed from the same text. */
export async function loadTokenizer(path: string, inputs: InputLog = new InputLog()): Promise<PromptTokenizer> {
  const reason = (error: unknown) => (error instanceof Error ? error.message.split("\n")[0] : String(error));
  const { bytes } = await readWholeInput(path, inputs, (why) => new UsageError(`${path}: cannot load tokenizer: ${why}`));
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromString(bytes.toString("utf8"));
  } catch (error) {
    throw new UsageError(`${path}: cannot load tokenizer: ${reason(error)}`);
  }
  const padId = tokenizer.tokenToId("<pad>") ?? tokenizer.tokenToId("[PAD]") ?? 0;
  return {
    padId,
    async encode(text: string): Promise<EncodedPrompt> {
      const encoding = await tokenizer.encode(text);
      // Offsets count code points (Rust chars), as Python's str indices do.
      return {
        text,
        ids: encoding.getIds(),
        offsets: encoding.getOffsets() as [number, number][],
        special: encoding.getSpecialTokensMask().map((m) => m === 1),
      };
    },
  };
}
