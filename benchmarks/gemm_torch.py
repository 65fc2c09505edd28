"""torch.matmul(A, W.t()) in bf16 (cuBLAS) on the Llama-3.2-1B and Llama-3.1-8B linear shapes.

Same shapes, timing protocol and table format as io.kindling.cuda.GemmBench, so the two tables join row by row:
W rotates over enough copies (at least 3, at least 200 MB) to be read from device memory rather than L2, A and C
over 3; CUDA events around each call, queued behind a 200 us torch.cuda._sleep so that they time the GPU's work
and not the host's submission; median of 30 after 5 warm-up calls. One difference: our kernel writes an
fp32 C, while torch.matmul on bf16 inputs writes a bf16 C (it accepts no fp32 out=), so at large m cuBLAS writes
half the output bytes we do.
"""
import statistics

import torch

WARMUP = 5
RUNS = 30
ROTATION_BYTES = 200 << 20
ACTIVATION_SETS = 3
MS = (1, 16, 64, 256, 2048, 8192)
HOLD_CYCLES = 400_000  # about 200 us at the H100's and H200's ~2 GHz: GemmBench's kd_spin hold


def layers(hidden, inter, heads, kv_heads, head_dim, vocab):
    return [("qkv", (heads + 2 * kv_heads) * head_dim, hidden), ("o", hidden, heads * head_dim),
            ("gate_up", 2 * inter, hidden), ("down", hidden, inter), ("lm_head", vocab, hidden)]


MODELS = [("llama-3.2-1b", layers(2048, 8192, 32, 8, 64, 128256)),
          ("llama-3.1-8b", layers(4096, 14336, 32, 8, 128, 128256))]


def time_us(a_sets, w_sets, c_sets, m):
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)

    def call(i):
        a = a_sets[i % ACTIVATION_SETS][:m]
        torch.matmul(a, w_sets[i % len(w_sets)].t(), out=c_sets[i % ACTIVATION_SETS][:m])

    for i in range(WARMUP):
        call(i)
    times = []
    for i in range(RUNS):
        torch.cuda._sleep(HOLD_CYCLES)
        start.record()
        call(i)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1000.0)
    return statistics.median(times)


def main():
    device = torch.device("cuda")
    gen = torch.Generator(device=device).manual_seed(0)
    print(f"# gemm bench on {torch.cuda.get_device_name()}: torch {torch.__version__} matmul, median of {RUNS} runs")
    print(f"{'model':<14} {'layer':<8} {'m':>6} {'n':>7} {'k':>6} {'time_us':>10} {'TFLOP/s':>9} {'W_GB/s':>9}  tile")
    for model, shapes in MODELS:
        for name, n, k in shapes:
            max_m = 2048 if name == "lm_head" else MS[-1]
            weight_bytes = 2 * n * k
            weight_sets = max(ACTIVATION_SETS, -(-ROTATION_BYTES // weight_bytes))

            def rand(*shape):
                return (torch.rand(*shape, generator=gen, device=device) * 2 - 1).to(torch.bfloat16)

            w_sets = [rand(n, k) for _ in range(weight_sets)]
            a_sets = [rand(max_m, k) for _ in range(ACTIVATION_SETS)]
            c_sets = [torch.empty(max_m, n, device=device, dtype=torch.bfloat16) for _ in range(ACTIVATION_SETS)]
            for m in MS:
                if m > max_m:
                    continue
                us = time_us(a_sets, w_sets, c_sets, m)
                flops = 2.0 * m * n * k
                print(f"{model:<14} {name:<8} {m:>6} {n:>7} {k:>6} {us:>10.1f} {flops / us / 1e6:>9.1f} "
                      f"{weight_bytes / us / 1e3:>9.1f}  cublas")
            del w_sets, a_sets, c_sets
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
