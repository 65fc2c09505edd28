# The two ceilings of a roofline on this GPU (python3 benchmarks/ceilings.py): device-to-device copy bandwidth
# (bytes read + written) and the bf16 matmul rate of torch.matmul (cuBLAS) at 8192^3.
import torch
torch.manual_seed(0)
n = 1 << 30  # 1 GiB of bf16 per buffer, 8 rotating pairs so no cache serves it
srcs = [torch.randn(n // 2, device="cuda", dtype=torch.bfloat16) for _ in range(4)]
dsts = [torch.empty_like(s) for s in srcs]
for s, d in zip(srcs, dsts):
    d.copy_(s)
torch.cuda.synchronize()
times = []
for r in range(20):
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record(); dsts[r % 4].copy_(srcs[r % 4]); b.record(); b.synchronize()
    times.append(a.elapsed_time(b))
times.sort()
ms = times[len(times) // 2]
print(f"copy: {2 * n / ms / 1e6:.0f} GB/s (1 GiB read + 1 GiB written, median of 20: {ms:.3f} ms)")
m = 8192
x = torch.randn(m, m, device="cuda", dtype=torch.bfloat16); y = torch.randn(m, m, device="cuda", dtype=torch.bfloat16)
for _ in range(3): x @ y
torch.cuda.synchronize()
times = []
for _ in range(10):
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record(); x @ y; b.record(); b.synchronize(); times.append(a.elapsed_time(b))
times.sort(); ms = times[5]
print(f"matmul 8192^3 bf16: {2 * m**3 / ms / 1e9:.0f} TFLOP/s ({ms:.3f} ms)")
