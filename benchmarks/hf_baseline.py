#!/usr/bin/env python3
"""Hugging Face generate() throughput on the exact workload `kindling bench --save-workload` wrote.

The model is the config.json shape with seeded random weights (transformers' own init, std 0.02), in bf16 on
the GPU with SDPA attention. Requests run in static batches in workload order, as vLLM's `run_hf` baseline
does: prompts left-padded to the batch's longest, greedy, every sequence generating the batch's longest
output_len (min_new_tokens = max_new_tokens, so no early EOS). Only each request's own output_len counts as
output; the padding a static batch computes is its cost. --find-batch-size probes candidate batch sizes on the
workload's longest prompt and keeps the fastest that fits in memory.

    python3 benchmarks/hf_baseline.py --config benchmarks/shapes/llama-3.2-1b --workload w.jsonl \\
        --find-batch-size [--max-requests 200] [--json-out hf.json]
"""
import argparse
import json
import os
import random
import sys
import time

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, LogitsProcessor, LogitsProcessorList

DEFAULT_CANDIDATES = "256,128,64,32"
PROBE_STEPS = 8
# Fraction of the card's memory a batch may be predicted to use: the allocator fragments as caches grow.
MEMORY_HEADROOM = 0.92


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="config.json, or a directory holding it (the model shape)")
    p.add_argument("--workload", required=True, help="JSON lines: prompt_token_ids, output_len")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--batch-size", type=int, help="static batch size")
    size.add_argument("--find-batch-size", action="store_true", help="probe --candidates, keep the fastest that fits")
    p.add_argument("--candidates", default=DEFAULT_CANDIDATES, help=f"batch sizes to probe (default {DEFAULT_CANDIDATES})")
    p.add_argument("--max-requests", type=int, help="run a seeded subset of this many requests (reported as such)")
    p.add_argument("--subset-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    p.add_argument("--device", default="cuda")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    p.add_argument("--json-out", help="write the figures here as JSON")
    args = p.parse_args(argv)
    if args.batch_size is not None and args.batch_size <= 0:
        p.error(f"--batch-size must be positive, got {args.batch_size}")
    if args.max_requests is not None and args.max_requests <= 0:
        p.error(f"--max-requests must be positive, got {args.max_requests}")
    return args


# ------------------------------------------------------------------------------------------------ workload

def load_workload(path):
    requests = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            entry = json.loads(line)
            prompt, output_len = entry["prompt_token_ids"], entry["output_len"]
            if not prompt or output_len <= 0:
                raise ValueError(f"{path}:{number}: empty prompt or output_len {output_len}")
            requests.append((list(prompt), int(output_len)))
    if not requests:
        raise ValueError(f"{path}: no requests")
    return requests


def seeded_subset(requests, count, seed):
    """`count` requests drawn without replacement, kept in workload order."""
    if count >= len(requests):
        return requests
    chosen = sorted(random.Random(seed).sample(range(len(requests)), count))
    return [requests[i] for i in chosen]


def static_batches(requests, size):
    return [requests[i:i + size] for i in range(0, len(requests), size)]


# --------------------------------------------------------------------------------------------------- model

def build_model(config_path, seed, device, dtype):
    model_dir = config_path if os.path.isdir(config_path) else os.path.dirname(os.path.abspath(config_path))
    config = AutoConfig.from_pretrained(model_dir)
    torch.manual_seed(seed)
    # built on the device in its dtype: an 8B model never exists in float32 on the host
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype), attn_implementation="sdpa")
    return model.eval()


def kv_bytes_per_token(model):
    c = model.config
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    return 2 * c.num_hidden_layers * c.num_key_value_heads * head_dim * model.dtype.itemsize


def pad_id(model):
    eos = model.config.eos_token_id
    return (eos[0] if isinstance(eos, list) else eos) if eos is not None else 0


def padded(batch, pad, device):
    """Left-padded input ids and attention mask for prompts of different lengths."""
    longest = max(len(prompt) for prompt, _ in batch)
    ids = torch.full((len(batch), longest), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    for row, (prompt, _) in enumerate(batch):
        ids[row, longest - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
        mask[row, longest - len(prompt):] = 1
    return ids.to(device), mask.to(device)


def generate(model, batch, device, new_tokens=None, logits_processor=None):
    """Greedy, exactly `new_tokens` (default: the batch's longest output_len) for every row."""
    new = new_tokens or max(output_len for _, output_len in batch)
    pad = pad_id(model)
    ids, mask = padded(batch, pad, device)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=new,
                             min_new_tokens=new, pad_token_id=pad, use_cache=True,
                             logits_processor=logits_processor)
    if out.shape[1] != ids.shape[1] + new:
        raise RuntimeError(f"generate returned {out.shape[1] - ids.shape[1]} new tokens, wanted {new}")
    return len(batch) * new


def synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class OomSplits:
    """Counts batches that ran out of memory and were run as two halves instead."""

    def __init__(self):
        self.count = 0


def generate_or_split(model, batch, device, splits):
    try:
        return generate(model, batch, device)
    except torch.OutOfMemoryError:
        if len(batch) == 1:
            raise
        torch.cuda.empty_cache()
        splits.count += 1
        half = len(batch) // 2
        return (generate_or_split(model, batch[:half], device, splits)
                + generate_or_split(model, batch[half:], device, splits))


# --------------------------------------------------------------------------------------------------- probe

class StepClock(LogitsProcessor):
    """Records when each generation step's logits are ready (after the prefill, then after each decode)."""

    def __init__(self, device):
        self.device = device
        self.times = []

    def __call__(self, input_ids, scores):
        synchronize(self.device)
        self.times.append(time.perf_counter())
        return scores


def probe(model, requests, size, device):
    """Prefill and decode-step seconds for `size` copies of the longest prompt, and the predicted peak memory
    of the workload's longest batch at this size; None when the probe itself runs out of memory."""
    longest_prompt = max(len(p) for p, _ in requests)
    longest_output = max(o for _, o in requests)
    generator = random.Random(size)
    prompt = [generator.randrange(model.config.vocab_size) for _ in range(longest_prompt)]
    batch = [(prompt, PROBE_STEPS + 1)] * size
    clock = StepClock(device)
    on_cuda = torch.device(device).type == "cuda"
    if on_cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    try:
        synchronize(device)
        start = time.perf_counter()
        generate(model, batch, device, logits_processor=LogitsProcessorList([clock]))
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return None
    prefill = clock.times[0] - start
    step = (clock.times[-1] - clock.times[0]) / (len(clock.times) - 1)
    peak = 0
    if on_cuda:
        # the probe's cache holds PROBE_STEPS + 1 new tokens; the longest batch grows it to longest_output
        peak = torch.cuda.max_memory_allocated() + size * (longest_output - PROBE_STEPS - 1) * kv_bytes_per_token(model)
    return dict(batch_size=size, prefill_s=prefill, step_s=step, predicted_peak_bytes=peak)


def predicted_seconds(requests, size, prefill, step):
    """Each static batch: its prefill (scaled by its longest prompt) plus one step per token of its longest output."""
    longest_prompt = max(len(p) for p, _ in requests)
    total = 0.0
    for batch in static_batches(requests, size):
        scale = len(batch) / size * max(len(p) for p, _ in batch) / longest_prompt
        total += prefill * scale + step * max(o for _, o in batch)
    return total


def find_batch_size(model, requests, candidates, device):
    capacity = torch.cuda.get_device_properties(device).total_memory if torch.device(device).type == "cuda" else None
    sizes = sorted({min(c, len(requests)) for c in candidates}, reverse=True)
    useful = sum(o for _, o in requests)
    best, results = None, []
    for size in sizes:
        result = probe(model, requests, size, device)
        if result is None:
            print(f"  probe batch {size}: out of memory")
            results.append(dict(batch_size=size, fits=False))
            continue
        fits = capacity is None or result["predicted_peak_bytes"] <= MEMORY_HEADROOM * capacity
        seconds = predicted_seconds(requests, size, result["prefill_s"], result["step_s"])
        result.update(fits=fits, predicted_output_tokens_per_s=useful / seconds)
        results.append(result)
        print(f"  probe batch {size}: prefill {result['prefill_s']:.3f} s, step {1000 * result['step_s']:.1f} ms, "
              f"predicted peak {result['predicted_peak_bytes'] / 2**30:.1f} GiB"
              f"{'' if fits else ' (does not fit)'}, predicted {useful / seconds:.1f} output tok/s")
        if fits and (best is None or result["predicted_output_tokens_per_s"] > best["predicted_output_tokens_per_s"]):
            best = result
    if best is None:
        raise RuntimeError(f"no batch size of {sizes} fits in memory")
    return best["batch_size"], results


# ---------------------------------------------------------------------------------------------------- main

def device_name(device):
    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"


def main(argv=None):
    args = parse_args(argv)
    workload = load_workload(args.workload)
    requests = workload
    if args.max_requests is not None and args.max_requests < len(workload):
        requests = seeded_subset(workload, args.max_requests, args.subset_seed)
    subset = len(requests) < len(workload)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {device_name(args.device)}")
    print(f"workload {args.workload}: {len(workload)} requests"
          + (f"; running a seeded SUBSET of {len(requests)} (seed {args.subset_seed})" if subset else ""))

    start = time.perf_counter()
    model = build_model(args.config, args.seed, args.device, args.dtype)
    print(f"model {args.config}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters, "
          f"{args.dtype}, sdpa, built in {time.perf_counter() - start:.1f} s")
    generate(model, requests[:2], args.device, new_tokens=4)  # warm-up: kernels chosen, allocator primed

    probes = None
    if args.find_batch_size:
        candidates = [int(c) for c in args.candidates.split(",")]
        batch_size, probes = find_batch_size(model, requests, candidates, args.device)
        print(f"batch size {batch_size} (fastest that fits)")
    else:
        batch_size = args.batch_size

    splits = OomSplits()
    generated = 0
    synchronize(args.device)
    start = time.perf_counter()
    for batch in static_batches(requests, batch_size):
        generated += generate_or_split(model, batch, args.device, splits)
    synchronize(args.device)
    elapsed = time.perf_counter() - start

    prompt_tokens = sum(len(p) for p, _ in requests)
    output_tokens = sum(o for _, o in requests)
    result = dict(
        device=device_name(args.device), torch=torch.__version__, transformers=transformers.__version__,
        config=args.config, workload=args.workload, dtype=args.dtype, attention="sdpa",
        requests=len(requests), workload_requests=len(workload), subset=subset,
        subset_seed=args.subset_seed if subset else None, batch_size=batch_size, oom_splits=splits.count,
        prompt_tokens=prompt_tokens, output_tokens=output_tokens, generated_tokens=generated,
        elapsed_s=elapsed, requests_per_s=len(requests) / elapsed, output_tokens_per_s=output_tokens / elapsed,
        total_tokens_per_s=(prompt_tokens + output_tokens) / elapsed, probes=probes)
    note = f" (SUBSET: {len(requests)} of {len(workload)} requests)" if subset else ""
    print(f"Throughput: {result['requests_per_s']:.2f} requests/s, {result['total_tokens_per_s']:.2f} total tokens/s, "
          f"{result['output_tokens_per_s']:.2f} output tokens/s{note}")
    print(f"Elapsed: {elapsed:.2f} s for {len(requests)} requests ({prompt_tokens} prompt + {output_tokens} output "
          f"tokens; {generated} generated incl. static-batch padding), batch size {batch_size}"
          + (f", {splits.count} batches split after running out of memory" if splits.count else ""))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
