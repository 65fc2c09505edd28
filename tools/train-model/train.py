#!/usr/bin/env python3
"""Train the bundled dictionary model: byte-level BPE tokenizer + small LlamaForCausalLM, in one run.

Usage (see README.md for the whole recipe):
  train.py --data DIR --out DIR [--steps N] [--smoke]
  DIR of --data holds train.txt and valid.txt from prepare_data.py (one `headword: definition` per line).

Writes into --out: the Hugging Face model directory (config.json, model.safetensors in bf16, tokenizer.json,
tokenizer_config.json, generation_config.json), reference.json (greedy continuations computed by transformers
in float32 from the saved directory, for the Java engine's tests), samples.json (greedy and sampled outputs)
and metrics.json (losses, perplexity, tokens, timing) that the model card quotes.

Everything is seeded; on the same card and software the run repeats. `--smoke` runs a tiny config for a few
steps on whatever device is present, to check the pipeline end to end.
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (AutoModelForCausalLM, AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM,
                          PreTrainedTokenizerFast)

SEED = 1234
PAD, BOS, EOS = "<|pad|>", "<|bos|>", "<|eos|>"  # ids 0, 1, 2
MAX_POSITIONS = 512
PROMPTS = ["apple:", "ocean:", "to run:", "philosophy:", "lighthouse:", "to whisper:"]
REFERENCE_STEPS = 32
TOP_K_MARGIN = 2

FULL = dict(vocab=4096, hidden=256, layers=8, intermediate=640, heads=8, kv_heads=4, seq=256, batch=128,
            lr=2e-3, warmup=200)
SMOKE = dict(vocab=512, hidden=32, layers=2, intermediate=64, heads=4, kv_heads=2, seq=64, batch=8,
             lr=2e-3, warmup=5)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def train_tokenizer(lines, vocab_size):
    """Byte-level BPE; BOS is added by the post-processor so every consumer of tokenizer.json agrees."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B",
                                                       special_tokens=[(BOS, bos_id)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                   model_max_length=MAX_POSITIONS, clean_up_tokenization_spaces=False)


def token_stream(tokenizer, lines):
    """All lines as one stream `<|bos|> line <|eos|> <|bos|> line <|eos|> ...` (uint16) + where each line starts."""
    encoded = tokenizer(lines, add_special_tokens=True)["input_ids"]
    eos = tokenizer.eos_token_id
    lengths = np.fromiter((len(ids) + 1 for ids in encoded), dtype=np.int64, count=len(encoded))
    stream = np.fromiter((t for ids in encoded for t in ids + [eos]), dtype=np.uint16, count=int(lengths.sum()))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return stream, starts


def build_model(cfg, tokenizer):
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=cfg["hidden"], intermediate_size=cfg["intermediate"],
                         num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"],
                         num_key_value_heads=cfg["kv_heads"], max_position_embeddings=MAX_POSITIONS,
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True, hidden_act="silu",
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, initializer_range=0.02, use_cache=True)
    return LlamaForCausalLM(config)


@torch.no_grad()
def evaluate(model, windows, device, batch):
    """Mean next-token loss over fixed held-out windows (every token of the validation stream counted once)."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        x = windows[i:i + batch].to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(input_ids=x[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1),
                                                 reduction="sum")
        total += loss.item()
        count += x[:, 1:].numel()
    model.train()
    return total / count


def greedy(model, prompt_ids, steps, device="cpu"):
    ids = list(prompt_ids)
    out, margins = [], []
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([ids], device=device), logits_to_keep=1).logits[0, -1].float()
            top = torch.topk(torch.log_softmax(logits, dim=-1), TOP_K_MARGIN)
            nxt = int(top.indices[0])
            out.append(nxt)
            margins.append(float(top.values[0] - top.values[1]))
            ids.append(nxt)
    return out, margins


def until_eos(ids, eos):
    return ids[:ids.index(eos)] if eos in ids else ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--max-train-seconds", type=float, default=420,
                    help="safety stop so one device call never overruns; a normal run ends well before it")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    cfg = SMOKE if args.smoke else FULL
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    started = time.time()
    log(f"torch {torch.__version__}, device {torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}")

    train_lines = read_lines(os.path.join(args.data, "train.txt"))
    valid_lines = read_lines(os.path.join(args.data, "valid.txt"))
    if args.smoke:
        train_lines, valid_lines = train_lines[:20000], valid_lines[:500]
    tokenizer = train_tokenizer(train_lines, cfg["vocab"])
    log(f"tokenizer: {len(tokenizer)} tokens, trained on {len(train_lines)} lines "
        f"({time.time() - started:.0f}s); 'apple:' -> {tokenizer('apple:').input_ids}")
    train_stream, train_starts = token_stream(tokenizer, train_lines)
    valid_stream, _ = token_stream(tokenizer, valid_lines)
    seq = cfg["seq"]
    # Training windows begin at an entry's <|bos|>, as a prompt does at inference.
    train_starts = torch.from_numpy(train_starts[train_starts + seq + 1 <= len(train_stream)])
    train_tokens = torch.from_numpy(train_stream.astype(np.int64))
    n_valid = len(valid_stream) // (seq + 1)
    valid_windows = torch.from_numpy(valid_stream[:n_valid * (seq + 1)].astype(np.int64)).view(n_valid, seq + 1)
    log(f"data: train {len(train_stream):,} tokens in {len(train_lines):,} entries "
        f"({len(''.join(train_lines).encode()) / len(train_stream):.2f} bytes/token), "
        f"valid {len(valid_stream):,} tokens in {len(valid_lines):,} entries ({n_valid} windows)")

    model = build_model(cfg, tokenizer).to(device)
    params = sum(p.numel() for p in model.parameters())
    log(f"model: {params:,} parameters ({params * 2 / 1e6:.2f} MB in bf16)")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optim = torch.optim.AdamW([dict(params=decay, weight_decay=0.1), dict(params=no_decay, weight_decay=0.0)],
                              lr=cfg["lr"], betas=(0.9, 0.95), eps=1e-8, fused=device.type == "cuda")
    steps, warmup = args.steps, cfg["warmup"]

    def lr_at(step):  # linear warm-up, then cosine down to 10%
        if step < warmup:
            return cfg["lr"] * (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return cfg["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    gen = torch.Generator().manual_seed(SEED)
    offsets = torch.arange(seq + 1)
    best = (float("inf"), -1, None)
    history = []
    interval_loss = torch.zeros((), device=device)  # summed on the device: no sync per step
    interval_steps = 0
    t_train = time.time()
    model.train()
    for step in range(steps):
        pick = train_starts[torch.randint(len(train_starts), (cfg["batch"],), generator=gen)]
        batch = train_tokens[pick[:, None] + offsets].to(device, non_blocking=True)
        for group in optim.param_groups:
            group["lr"] = lr_at(step)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(input_ids=batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)),
                                                 batch[:, 1:].reshape(-1))
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        interval_loss += loss.detach()
        interval_steps += 1
        if (step + 1) % args.eval_every == 0 or step == steps - 1:
            train_loss = interval_loss.item() / interval_steps
            interval_loss.zero_()
            interval_steps = 0
            val = evaluate(model, valid_windows, device, cfg["batch"])
            elapsed = time.time() - t_train
            tokens = (step + 1) * cfg["batch"] * seq
            history.append(dict(step=step + 1, train_loss=round(train_loss, 4), valid_loss=round(val, 4),
                                tokens=tokens, seconds=round(elapsed, 1)))
            log(f"step {step + 1}/{steps}  lr {lr_at(step):.2e}  train {train_loss:.4f}  valid {val:.4f} "
                f"(ppl {math.exp(val):.2f})  {tokens / elapsed / 1e6:.2f}M tok/s  "
                f"epochs {tokens / len(train_stream):.1f}")
            if val < best[0]:
                best = (val, step + 1, {k: v.detach().clone() for k, v in model.state_dict().items()})
            if elapsed > args.max_train_seconds and step < steps - 1:
                log(f"stopping early at step {step + 1}: over --max-train-seconds")
                steps = step + 1
                break
    train_seconds = time.time() - t_train
    log(f"training done in {train_seconds:.0f}s; best valid loss {best[0]:.4f} at step {best[1]}")
    model.load_state_dict(best[2])

    os.makedirs(args.out, exist_ok=True)
    model.to(torch.bfloat16).save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    GenerationConfig(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                     pad_token_id=tokenizer.pad_token_id, do_sample=True, temperature=0.7, top_p=0.9,
                     max_new_tokens=64).save_pretrained(args.out)
    fix_tokenizer_config(args.out)

    # Everything below reads the saved directory back, as users (and the Java tests) will.
    tok = AutoTokenizer.from_pretrained(args.out)
    saved = AutoModelForCausalLM.from_pretrained(args.out, dtype=torch.float32).eval()
    saved_val = evaluate(saved.to(device), valid_windows, device, cfg["batch"])
    saved = saved.to("cpu")
    log(f"saved model (bf16 weights) valid loss {saved_val:.4f}, perplexity {math.exp(saved_val):.2f}")
    cases, samples = [], []
    for prompt in PROMPTS:
        prompt_ids = tok(prompt).input_ids
        assert prompt_ids[0] == tok.bos_token_id, f"BOS missing from {prompt_ids}"
        token_ids, margins = greedy(saved, prompt_ids, REFERENCE_STEPS)
        text = tok.decode(until_eos(token_ids, tok.eos_token_id), skip_special_tokens=True)
        cases.append(dict(prompt=prompt, prompt_token_ids=prompt_ids, token_ids=token_ids, margins=margins,
                          text=text))
        torch.manual_seed(SEED)
        sampled = saved.generate(torch.tensor([prompt_ids]), do_sample=True, temperature=0.7, top_p=0.9,
                                 max_new_tokens=64)[0, len(prompt_ids):].tolist()
        sampled_text = tok.decode(until_eos(sampled, tok.eos_token_id), skip_special_tokens=True)
        samples.append(dict(prompt=prompt, greedy=text, sampled=sampled_text))
        log(f"{prompt!r}\n   greedy : {text}\n   sampled: {samples[-1]['sampled']}\n   min margin {min(margins):.4f}")
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(dict(source="transformers, float32 on CPU, from the saved bf16 checkpoint",
                       steps=REFERENCE_STEPS, cases=cases), f, indent=1)
    metrics = dict(params=params, config={k: v for k, v in cfg.items()}, steps=steps, best_step=best[1],
                   tokens_seen=steps * cfg["batch"] * seq, train_tokens=len(train_stream),
                   valid_tokens=int(n_valid * (seq + 1)), train_entries=len(train_lines),
                   valid_entries=len(valid_lines), final_train_loss=history[-1]["train_loss"],
                   train_loss_at_best=next(h["train_loss"] for h in history if h["step"] == best[1]),
                   best_valid_loss=best[0], saved_valid_loss=saved_val, saved_valid_perplexity=math.exp(saved_val),
                   train_seconds=round(train_seconds), total_seconds=round(time.time() - started),
                   torch=torch.__version__, device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                   history=history)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    with open(os.path.join(args.out, "samples.json"), "w") as f:
        json.dump(samples, f, indent=1, ensure_ascii=False)
    log(f"done in {time.time() - started:.0f}s")


def fix_tokenizer_config(out):
    """Pins the fields other tokenizer loaders (DJL, older transformers) look for."""
    path = os.path.join(out, "tokenizer_config.json")
    with open(path) as f:
        config = json.load(f)
    config.update(tokenizer_class="PreTrainedTokenizerFast", bos_token=BOS, eos_token=EOS, pad_token=PAD,
                  model_max_length=MAX_POSITIONS,
                  clean_up_tokenization_spaces=False)
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
