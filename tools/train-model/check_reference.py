"""Checks, on the GPU machine, that transformers loading the shipped model directory still generates the greedy
tokens recorded in its reference.json, which the Java engine's BundledModelTest compares against on the CPU.
So transformers and `bin/kindling generate` agree through one committed file.

    python3 tools/train-model/check_reference.py examples/models/kindling-define-6m

Compares up to and including the first step whose recorded top-1/top-2 margin is under 1e-3, on the CPU and, where
present, on CUDA (float32, TF32 off). Exits 1 on a mismatch.
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import greedy  # noqa: E402  the same greedy loop that wrote the reference


def agreeing_steps(expected, margins, actual):
    for step, (want, got) in enumerate(zip(expected, actual)):
        if want != got:
            return step, False
        if margins[step] < 1e-3:
            return step + 1, True
    return len(expected), True


def main():
    model_dir = sys.argv[1]
    reference = json.load(open(os.path.join(model_dir, "reference.json")))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    tok = AutoTokenizer.from_pretrained(model_dir)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    failures = 0
    print(f"{'device':6} {'prompt':14} {'ids':4} {'steps':>5}  result")
    for device in devices:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval().to(device)
        for case in reference["cases"]:
            ids = tok(case["prompt"]).input_ids
            ids_ok = ids == case["prompt_token_ids"]
            tokens, _ = greedy(model, ids, len(case["token_ids"]), device)
            steps, ok = agreeing_steps(case["token_ids"], case["margins"], tokens)
            ok = ok and ids_ok
            failures += not ok
            print(f"{device:6} {case['prompt']:14} {'ok' if ids_ok else 'DIFF':4} {steps:5}  {'ok' if ok else 'MISMATCH'}")
    print(f"{failures} mismatches on {', '.join(devices)}"
          + (f" ({torch.cuda.get_device_name()})" if torch.cuda.is_available() else ""))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
