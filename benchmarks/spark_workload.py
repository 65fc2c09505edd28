#!/usr/bin/env python3
"""One workload through `kindling generate` and `kindling spark`: text prompts of exact token lengths, and the
figures and comparisons of what the two wrote.

  build --workload W.jsonl --tokenizer tokenizer.json[.gz] --out prompts.jsonl [--output-len N] [--seed S]
      One JSON line per workload line (as `kindling bench --save-workload` writes them: prompt_token_ids,
      output_len), in order: {"id": i, "prompt": TEXT, "max_tokens": M, "ignore_eos": true}. TEXT is built from
      token ids and decoded: len(prompt_token_ids) - 1 whole-word tokens of the vocabulary (" the", " house", ...)
      drawn with a seeded generator, so that the tokenizer's encoding, BOS first, has the workload's prompt length.
      M is the line's output_len, or N for every line with --output-len N.

  check --workload W.jsonl --generated OUT.jsonl
      Compares the prompt lengths that `kindling generate` reports (prompt_token_ids of each output line) with the
      workload's, and prints the largest deviation; exits 1 when it exceeds --tolerance (default 3 tokens).

  tokens OUTPUT [--prompts prompts.jsonl] [--max-tokens N]
      Prints the output tokens of a run as one number: a `kindling generate` JSONL counts its token_ids; a
      `kindling spark` output directory (JSON part files, text only) counts, for each row with generated text, its
      max_tokens: N, or the row's own from --prompts (with ignore_eos every row generates exactly that many).
      Exits 1, naming them, when rows failed (an error, or no generated text).

  compare A B
      Compares the generated text of two runs, row by row by id (each a generate JSONL or a Spark output
      directory): prints how many are identical and the first ids that differ; exits 1 unless all are.

Why whole words: the Llama 3 tokenizer splits text into pre-tokens (a word with its leading space is one) and
looks each up in the vocabulary before merging (ignore_merges), so " house" encodes back to the one token it
came from. Random ids over the whole vocabulary would decode to byte fragments and special tokens that encode to
something else. Only the standard library is used, so it runs wherever python3 does.
"""
import argparse
import glob
import gzip
import json
import os
import random
import re
import sys

# GPT-2's byte-level alphabet writes a leading space as 'Ġ'; these are a space and ASCII letters only.
WORD = re.compile(r"^\u0120[A-Za-z]{2,}$")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def word_tokens(tokenizer_path):
    """The vocabulary's whole-word tokens (leading space, letters), sorted by id, without the special tokens."""
    opener = gzip.open if tokenizer_path.endswith(".gz") else open
    with opener(tokenizer_path, "rt", encoding="utf-8") as f:
        tokenizer = json.load(f)
    special = {t["content"] for t in tokenizer.get("added_tokens", [])}
    vocab = tokenizer["model"]["vocab"]
    words = sorted((i, t) for t, i in vocab.items() if WORD.match(t) and t not in special)
    if not words:
        raise SystemExit(f"{tokenizer_path}: no whole-word tokens (not a byte-level BPE tokenizer?)")
    return [" " + t[1:] for _, t in words]


def build(args):
    words = word_tokens(args.tokenizer)
    workload = read_jsonl(args.workload)
    generator = random.Random(args.seed)
    with open(args.out, "w", encoding="utf-8") as out:
        for i, line in enumerate(workload):
            length = len(line["prompt_token_ids"])
            if length < 2:
                raise SystemExit(f"{args.workload}:{i + 1}: a prompt of {length} tokens leaves no room after BOS")
            text = "".join(generator.choice(words) for _ in range(length - 1))
            max_tokens = args.output_len if args.output_len else line["output_len"]
            row = {"id": i, "prompt": text, "max_tokens": max_tokens, "ignore_eos": True}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{args.out}: {len(workload)} prompts from {len(words)} word tokens, seed {args.seed}")
    return 0


def check(args):
    wanted = [len(line["prompt_token_ids"]) for line in read_jsonl(args.workload)]
    generated = read_jsonl(args.generated)
    if len(generated) != len(wanted):
        raise SystemExit(f"{args.generated}: {len(generated)} lines for {len(wanted)} workload lines")
    deviations = []
    for row in generated:
        if row.get("error"):
            raise SystemExit(f"{args.generated}: row {row['id']} failed: {row['error']}")
        deviations.append(len(row["prompt_token_ids"]) - wanted[row["id"]])
    worst = max(deviations, key=abs)
    exact = sum(1 for d in deviations if d == 0)
    print(f"prompt lengths re-tokenized: {exact} of {len(deviations)} exact, largest deviation {worst:+d} tokens "
          f"(tolerance {args.tolerance})")
    return 0 if abs(worst) <= args.tolerance else 1


def outputs(path):
    """id -> generated text (None when the row failed) of a generate JSONL or a Spark output directory."""
    if not os.path.exists(path):
        raise SystemExit(f"{path}: no such output (did the run fail?)")
    if os.path.isdir(path):
        rows = [row for part in sorted(glob.glob(os.path.join(path, "part-*.json"))) for row in read_jsonl(part)]
        return {row["id"]: row.get("generated") for row in rows}
    return {row["id"]: None if row.get("error") else row["text"] for row in read_jsonl(path)}


def tokens(args):
    texts = outputs(args.output)
    failed = sorted(i for i, text in texts.items() if text is None)
    if os.path.isdir(args.output):
        if args.max_tokens is None and args.prompts is None:
            raise SystemExit("a Spark output holds text only: give --max-tokens or --prompts")
        budget = {row["id"]: row["max_tokens"] for row in read_jsonl(args.prompts)} if args.prompts else {}
        count = sum(args.max_tokens or budget[i] for i, text in texts.items() if text is not None)
    else:
        count = sum(len(row["token_ids"]) for row in read_jsonl(args.output) if not row.get("error"))
    if failed:
        print(f"{args.output}: {len(failed)} of {len(texts)} rows failed, first ids {failed[:10]}", file=sys.stderr)
        return 1
    print(count)
    return 0


def compare(args):
    a, b = outputs(args.a), outputs(args.b)
    if a.keys() != b.keys():
        raise SystemExit(f"{args.a} and {args.b} hold different ids ({len(a)} and {len(b)} rows)")
    differ = sorted(i for i in a if a[i] != b[i])
    print(f"{len(a) - len(differ)} of {len(a)} rows identical" + (f"; first ids that differ: {differ[:10]}"
                                                                  if differ else ""))
    return 1 if differ else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="text prompts of the workload's token lengths")
    b.add_argument("--workload", required=True, help="JSON lines with prompt_token_ids and output_len")
    b.add_argument("--tokenizer", required=True, help="the model's tokenizer.json, or tokenizer.json.gz")
    b.add_argument("--out", required=True)
    b.add_argument("--output-len", type=int, help="max_tokens of every prompt (default: each line's output_len)")
    b.add_argument("--seed", type=int, default=0)
    b.set_defaults(run=build)
    c = commands.add_parser("check", help="the generated prompt lengths against the workload's")
    c.add_argument("--workload", required=True)
    c.add_argument("--generated", required=True, help="kindling generate's output for the built prompts")
    c.add_argument("--tolerance", type=int, default=3)
    c.set_defaults(run=check)
    t = commands.add_parser("tokens", help="output tokens of a generate JSONL or a Spark output directory")
    t.add_argument("output")
    t.add_argument("--prompts", help="the input prompts, whose max_tokens each Spark row generated")
    t.add_argument("--max-tokens", type=int, help="what every Spark row generated")
    t.set_defaults(run=tokens)
    m = commands.add_parser("compare", help="the generated text of two runs, row by row")
    m.add_argument("a")
    m.add_argument("b")
    m.set_defaults(run=compare)
    args = parser.parse_args(argv)
    if getattr(args, "output_len", None) is not None and args.output_len <= 0:
        parser.error(f"--output-len must be positive, got {args.output_len}")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
