package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import io.kindling.backend.BatchInputs;
import io.kindling.model.Architecture;
import io.kindling.model.DType;
import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Decode attention bandwidth: batch 256 at contexts 512/1024/2048 for the Llama-3.2-1B (32 q heads, 8 KV heads,
 * head 64) and Llama-3.1-8B (32/8, head 128) shapes, K/V bytes read per second against a device-to-device copy
 * of 1 GiB (bytes read + written). Random cache contents at a shuffled block table; median of 7 timed batches.
 */
public final class AttentionBench {

    private static final int BATCH = 256;
    private static final int BLOCK_SIZE = 16;
    private static final int[] CONTEXTS = {512, 1024, 2048};
    private static final int REPEATS = 7;
    private static final int ITERATIONS = 20;

    private record Shape(String name, int numHeads, int numKvHeads, int headDim) {
    }

    private AttentionBench() {
    }

    public static void main(String[] args) {
        try (CudaContext context = CudaContext.create(0)) {
            KernelModule module = KernelModule.load("paged_attention");
            double copy = copyBandwidth(context);
            System.out.printf("decode attention, batch %d, block %d, %s; device-to-device copy %.0f GB/s (read + "
                    + "write)%n", BATCH, BLOCK_SIZE, context.deviceName(), copy / 1e9);
            System.out.printf("%-14s %7s %10s %10s %10s %9s%n", "shape", "context", "partitions", "time us",
                    "K/V GB/s", "% copy");
            for (Shape shape : List.of(new Shape("Llama-3.2-1B", 32, 8, 64), new Shape("Llama-3.1-8B", 32, 8, 128))) {
                for (int ctx : CONTEXTS) {
                    bench(context, module, shape, ctx, copy);
                }
            }
        }
    }

    private static void bench(CudaContext context, KernelModule module, Shape shape, int ctx, double copy) {
        ModelConfig config = new ModelConfig(Architecture.LLAMA, 128256, shape.numHeads * shape.headDim, 8192, 1,
                shape.numHeads, shape.numKvHeads, shape.headDim, 1e-5, Rope.standard(500000.0), 131072, false, false,
                false, OptionalInt.empty(), DType.BF16, OptionalInt.empty(), List.of(1));
        int blocksPerSeq = (ctx + BLOCK_SIZE - 1) / BLOCK_SIZE;
        int numBlocks = BATCH * blocksPerSeq;
        long blockElems = (long) shape.numKvHeads * BLOCK_SIZE * shape.headDim;
        long planeBytes = numBlocks * blockElems * Short.BYTES;
        int qkvStride = config.qSize() + 2 * config.kvSize();
        SplittableRandom random = new SplittableRandom(42);
        BatchInputs batch = decodeBatch(ctx, blocksPerSeq, numBlocks, random);
        CUstream s = context.stream();
        try (DeviceBuffer cache = DeviceBuffer.allocate(2 * planeBytes);
             DeviceBuffer qkv = DeviceBuffer.allocate((long) BATCH * qkvStride * Float.BYTES)
                     .copyFrom(randomFloats(BATCH * qkvStride, random));
             DeviceBuffer out = DeviceBuffer.allocate((long) BATCH * config.qSize() * Short.BYTES);
             PagedAttention attention = new PagedAttention(module, config, BLOCK_SIZE, BATCH, BATCH, blocksPerSeq)) {
            fillRandom(cache, random);
            attention.prepare(s, batch);
            Runnable step = () -> attention.run(s, qkv.ptr(), qkvStride, cache.ptr(), cache.at(planeBytes), out.ptr());
            double seconds = medianSeconds(s, step);
            double kvBytes = 2.0 * BATCH * ctx * config.kvSize() * Short.BYTES;
            double rate = kvBytes / seconds;
            System.out.printf("%-14s %7d %10d %10.1f %10.0f %8.0f%%%n", shape.name, ctx,
                    attention.plan().decodePartitions(), seconds * 1e6, rate / 1e9, 100 * rate / copy);
        }
    }

    /** Every sequence decodes its token ctx - 1 over blocks drawn from a shuffled pool. */
    private static BatchInputs decodeBatch(int ctx, int blocksPerSeq, int numBlocks, SplittableRandom random) {
        int[] pool = new int[numBlocks];
        Arrays.setAll(pool, i -> i);
        for (int i = numBlocks - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        int[][] tables = new int[BATCH][];
        int[] positions = new int[BATCH];
        int[] slots = new int[BATCH];
        int[] seqLens = new int[BATCH];
        int[] queryStartLoc = new int[BATCH + 1];
        for (int s = 0; s < BATCH; s++) {
            tables[s] = Arrays.copyOfRange(pool, s * blocksPerSeq, (s + 1) * blocksPerSeq);
            positions[s] = ctx - 1;
            slots[s] = tables[s][(ctx - 1) / BLOCK_SIZE] * BLOCK_SIZE + (ctx - 1) % BLOCK_SIZE;
            seqLens[s] = ctx;
            queryStartLoc[s + 1] = s + 1;
        }
        int[] logits = new int[BATCH];
        Arrays.setAll(logits, i -> i);
        return new BatchInputs(new int[BATCH], positions, slots, queryStartLoc, seqLens, tables, logits);
    }

    private static float[] randomFloats(int n, SplittableRandom random) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    /** Random bf16 values in [-1, 1): 32 MiB drawn once, copied over the whole buffer. */
    private static void fillRandom(DeviceBuffer buffer, SplittableRandom random) {
        short[] chunk = new short[16 << 20];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = Bf16.fromFloat((float) (random.nextDouble() * 2 - 1));
        }
        long chunkBytes = (long) chunk.length * Short.BYTES;
        for (long at = 0; at < buffer.bytes(); at += chunkBytes) {
            cuMemcpyHtoD(buffer.at(at), Pointer.to(chunk), Math.min(chunkBytes, buffer.bytes() - at));
        }
    }

    private static double copyBandwidth(CudaContext context) {
        long bytes = 1L << 30;
        CUstream s = context.stream();
        try (DeviceBuffer src = DeviceBuffer.allocate(bytes); DeviceBuffer dst = DeviceBuffer.allocate(bytes)) {
            fillRandom(src, new SplittableRandom(7));
            double seconds = medianSeconds(s, () -> cuMemcpyDtoDAsync(dst.ptr(), src.ptr(), bytes, s));
            return 2.0 * bytes / seconds;
        }
    }

    /** Median over {@link #REPEATS} event-timed batches of {@link #ITERATIONS} calls, after a warm-up batch. */
    private static double medianSeconds(CUstream s, Runnable work) {
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
        try {
            double[] times = new double[REPEATS];
            for (int r = -1; r < REPEATS; r++) {
                cuEventRecord(start, s);
                for (int i = 0; i < ITERATIONS; i++) {
                    work.run();
                }
                cuEventRecord(end, s);
                cuEventSynchronize(end);
                float[] ms = new float[1];
                cuEventElapsedTime(ms, start, end);
                if (r >= 0) {
                    times[r] = ms[0] / 1e3 / ITERATIONS;
                }
            }
            Arrays.sort(times);
            return times[REPEATS / 2];
        } finally {
            cuEventDestroy(start);
            cuEventDestroy(end);
        }
    }
}
