package io.kindling.cuda;

import io.kindling.model.Rope;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * RoPE + K/V cache write per layer: the two kernels the engine ran before ({@code kd_rotary}, then
 * {@code kd_reshape_and_cache}) against the fused {@code kd_rotary_cache}, on the Llama-3.2-1B (32 q heads, 8 KV
 * heads, head 64), Llama-3.1-8B (32/8, head 128, both llama3 RoPE) and Qwen3-8B (32/8, head 128, q/k norm) shapes;
 * decode batches of 1 and 256 tokens and a 2048-token prefill chunk, random inputs, random distinct slots, positions
 * below 4096. A timed batch is one CUDA graph of 20 launches (or launch pairs), as the engine replays a step: the
 * qkv rows stay in L2 as they do behind the GEMM that writes them. Median of 7, microseconds per layer.
 *
 * <p>Arguments: the fused kernel's warps per token to compare (1 to 32); none: 8, 16 and 32. The engine's choice,
 * {@link Elementwise#rotaryCacheWarps}, is marked with a star in each row.
 */
public final class RotaryCacheBench {

    private static final int BLOCK_SIZE = 16;
    private static final int[] TOKENS = {1, 256, 2048};
    private static final float EPS = 1e-6f;

    private record Shape(String name, int numHeads, int numKvHeads, int headDim, Rope rope, boolean qkNorm) {
    }

    private RotaryCacheBench() {
    }

    public static void main(String[] args) {
        int[] warps = args.length == 0 ? new int[] {8, 16, 32}
                : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        List<Shape> shapes = List.of(
                new Shape("Llama-3.2-1B", 32, 8, 64, new Rope(500000, "llama3", 32, 1, 4, 8192), false),
                new Shape("Llama-3.1-8B", 32, 8, 128, new Rope(500000, "llama3", 8, 1, 4, 8192), false),
                new Shape("Qwen3-8B", 32, 8, 128, Rope.standard(1000000), true));
        try (CudaContext context = CudaContext.create(0)) {
            Elementwise elementwise = Elementwise.load();
            KvCacheKernels kvKernels = new KvCacheKernels(KernelModule.load("kv_cache"));
            System.out.printf("RoPE + K/V cache write, block %d, %s; us per layer, fused at W warps per token "
                    + "(* the engine's)%n", BLOCK_SIZE, context.deviceName());
            StringBuilder header = new StringBuilder(String.format("%-13s %6s %8s %8s %8s", "shape", "tokens",
                    "rotary", "kv write", "pair"));
            for (int w : warps) {
                header.append(String.format(" %10s", "fused W=" + w));
            }
            header.append(String.format(" %8s", "pair/best"));
            System.out.println(header);
            for (Shape shape : shapes) {
                for (int n : TOKENS) {
                    System.out.println(row(context, elementwise, kvKernels, shape, n, warps));
                }
            }
        }
    }

    /** One table row: the old kernels alone and as a pair, the fused one per warp count, pair / best fused. */
    private static String row(CudaContext context, Elementwise elementwise, KvCacheKernels kvKernels, Shape shape,
                              int n, int[] warps) {
        SplittableRandom random = new SplittableRandom(42);
        int qSize = shape.numHeads * shape.headDim;
        int kvSize = shape.numKvHeads * shape.headDim;
        int stride = qSize + 2 * kvSize;
        int numBlocks = 4 * ((n + BLOCK_SIZE - 1) / BLOCK_SIZE);
        int[] slots = random.ints(0, numBlocks * BLOCK_SIZE).distinct().limit(n).toArray();
        int[] positions = random.ints(n, 0, 4096).toArray();
        float[] invFreq = shape.rope.inverseFrequencies(shape.headDim);
        long cacheBytes = (long) numBlocks * BLOCK_SIZE * kvSize * Short.BYTES;
        CUstream s = context.stream();
        try (DeviceBuffer qkv = DeviceBuffer.allocate(4L * n * stride)
                     .copyFrom(CudaTestSupport.randomFloats(n * stride, random.nextLong(), 2f));
             DeviceBuffer dPos = DeviceBuffer.allocate(4L * n).copyFrom(positions);
             DeviceBuffer dSlots = DeviceBuffer.allocate(4L * n).copyFrom(slots);
             DeviceBuffer dInv = DeviceBuffer.allocate(4L * invFreq.length).copyFrom(invFreq);
             DeviceBuffer qNorm = norm(shape, random);
             DeviceBuffer kNorm = norm(shape, random);
             DeviceBuffer kCache = DeviceBuffer.allocate(cacheBytes);
             DeviceBuffer vCache = DeviceBuffer.allocate(cacheBytes)) {
            context.synchronizeAll();
            Runnable rotary = () -> elementwise.rotary(s, qkv.ptr(), stride, dPos.ptr(), n, dInv.ptr(),
                    ptr(qNorm), ptr(kNorm), EPS, shape.numHeads, shape.numKvHeads, shape.headDim);
            Runnable write = () -> kvKernels.reshapeAndCache(s, qkv.ptr(), stride, qSize, qSize + kvSize,
                    dSlots.ptr(), n, kCache.ptr(), vCache.ptr(), shape.numKvHeads, BLOCK_SIZE, shape.headDim);
            double rotarySeconds = AttentionBench.graphSeconds(context, i -> rotary.run());
            double writeSeconds = AttentionBench.graphSeconds(context, i -> write.run());
            double pairSeconds = AttentionBench.graphSeconds(context, i -> {
                rotary.run();
                write.run();
            });
            StringBuilder line = new StringBuilder(String.format("%-13s %6d %8.2f %8.2f %8.2f", shape.name, n,
                    rotarySeconds * 1e6, writeSeconds * 1e6, pairSeconds * 1e6));
            double best = Double.MAX_VALUE;
            for (int w : warps) {
                double fused = AttentionBench.graphSeconds(context, i -> elementwise.rotaryCache(s, qkv.ptr(), stride,
                        dPos.ptr(), dSlots.ptr(), n, dInv.ptr(), ptr(qNorm), ptr(kNorm), EPS, shape.numHeads,
                        shape.numKvHeads, shape.headDim, kCache.ptr(), vCache.ptr(), BLOCK_SIZE, w));
                best = Math.min(best, fused);
                line.append(String.format(" %10s", String.format("%.2f", fused * 1e6)
                        + (w == Elementwise.rotaryCacheWarps(n) ? "*" : "")));
            }
            return line.append(String.format(" %7.2fx", pairSeconds / best)).toString();
        }
    }

    /** A random bf16 q/k norm weight where the shape has one, else null. */
    private static DeviceBuffer norm(Shape shape, SplittableRandom random) {
        if (!shape.qkNorm) {
            return null;
        }
        return DeviceBuffer.allocate(2L * shape.headDim)
                .copyFrom(Bf16.fromFloats(CudaTestSupport.randomFloats(shape.headDim, random.nextLong(), 2f)));
    }

    private static CUdeviceptr ptr(DeviceBuffer buffer) {
        return buffer == null ? null : buffer.ptr();
    }
}
