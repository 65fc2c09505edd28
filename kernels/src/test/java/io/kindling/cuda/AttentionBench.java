package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;

import io.kindling.backend.BatchInputs;
import io.kindling.model.Architecture;
import io.kindling.model.DType;
import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;

/**
 * Decode attention bandwidth on the Llama-3.2-1B (32 q heads, 8 KV heads, head 64) and Llama-3.1-8B (32/8, head
 * 128) shapes, block size 16: per (context, batch) case, K/V bytes read per second against a device-to-device copy
 * of 1 GiB measured in the same process (bytes read + written; the faster of stream-ordered copies and copies replayed
 * from a graph, which the driver runs differently). Random bf16 cache contents behind shuffled block
 * tables, the cache repeated until a timed batch cycles through at least 1 GiB, so K/V come from HBM and not from
 * L2. A timed batch is one CUDA graph of 20 decode launches (as the engine replays a step); median of 7.
 *
 * <p>Arguments: the cp.async stages to compare (2, 3 or 4) with the rest of {@link DecodeTuning#DEFAULT}; none:
 * the default. {@code --sweep}: every tuning of {@link #sweep()} on every case, the copy measured in the same run,
 * then one table of % of copy per tuning, best first, to choose the default from. Before either,
 * {@code --block-size N} (16 unless given) and {@code --in-order}: each sequence's blocks consecutive in the cache,
 * as a fresh cache hands them out, instead of shuffled: how much of the gap to copy is the scattered reads'.
 */
public final class AttentionBench {

    /** How the cache is laid out: block size, and each sequence's blocks consecutive or shuffled. */
    private record Layout(int blockSize, boolean inOrder) {
    }
    /** (context, batch): batches that fill the card, then batch 1 at 32k (the split-KV case), then batch 256. */
    private static final int[][] CASES = {
        {512, 256}, {1024, 64}, {2048, 32}, {8192, 8}, {32768, 1}, {1024, 256}, {2048, 256}};
    private static final long CYCLE_BYTES = 1L << 30;
    private static final int REPEATS = 7;
    private static final int ITERATIONS = 20;

    private record Shape(String name, int numHeads, int numKvHeads, int headDim) {
    }

    private record Row(Shape shape, int ctx, int batch, DecodeTuning tuning, int split, int blocks, int blocksPerSm,
                       double seconds, double rate) {
    }

    /** Cases where the target was missed: small batches, long contexts (about 64k keys, 32k alone). */
    private static boolean smallBatch(int[] c) {
        return c[1] < 256;
    }

    /**
     * The tunings {@code --sweep} compares: the key loop on CUDA cores and on tensor cores, 2 or 4 warps, 2 or 3
     * stages, partitions of (keys, at most) 256/64, 256/128, 512/64 and 1,024/32, kv heads launched together. An
     * earlier sweep of all 180 CUDA-core tunings (benchmarks/logs/attention-sweep-h200-2026-12-06-s3.txt) found 8
     * warps, 4 stages and work-item-first orders no better than these.
     */
    static List<DecodeTuning> sweep() {
        List<DecodeTuning> tunings = new ArrayList<>();
        int[][] splits = {{256, 64}, {256, 128}, {512, 64}, {1024, 32}};
        for (boolean tensorCores : new boolean[] {false, true}) {
            for (int warps : new int[] {2, 4}) {
                for (int stages = 2; stages <= 3; stages++) {
                    for (int[] split : splits) {
                        tunings.add(new DecodeTuning(warps, stages, split[0], split[1], true, tensorCores));
                    }
                }
            }
        }
        return tunings;
    }

    private AttentionBench() {
    }

    public static void main(String[] args) {
        int blockSize = 16;
        boolean inOrder = false;
        while (args.length > 0 && args[0].startsWith("--") && !args[0].equals("--sweep")) {
            if (args[0].equals("--in-order")) {
                inOrder = true;
                args = Arrays.copyOfRange(args, 1, args.length);
            } else if (args[0].equals("--block-size") && args.length > 1) {
                blockSize = Integer.parseInt(args[1]);
                args = Arrays.copyOfRange(args, 2, args.length);
            } else {
                throw new IllegalArgumentException("unknown option " + args[0]);
            }
        }
        Layout layout = new Layout(blockSize, inOrder);
        boolean sweep = args.length == 1 && args[0].equals("--sweep");
        DecodeTuning d = DecodeTuning.DEFAULT;
        List<DecodeTuning> tunings = sweep ? sweep() : args.length == 0 ? List.of(d)
                : Arrays.stream(args).map(a -> new DecodeTuning(d.warps(), Integer.parseInt(a), d.partitionTokens(),
                        d.maxPartitions(), d.headsFastest(), d.tensorCores())).toList();
        try (CudaContext context = CudaContext.create(0)) {
            KernelModule module = KernelModule.load("paged_attention");
            double[] copies = copyBandwidth(context);
            double copy = Math.max(copies[0], copies[1]);
            System.out.printf("decode attention, block %d (%s), %s; device-to-device copy %.0f GB/s (read + write; "
                    + "stream-ordered %.0f, from a graph %.0f)%n", blockSize, inOrder ? "tables in order" : "shuffled",
                    context.deviceName(), copy / 1e9,
                    copies[0] / 1e9, copies[1] / 1e9);
            List<Row> rows = new ArrayList<>();
            for (Shape shape : List.of(new Shape("Llama-3.2-1B", 32, 8, 64), new Shape("Llama-3.1-8B", 32, 8, 128))) {
                for (int[] c : CASES) {
                    rows.addAll(bench(context, module, layout, shape, c[0], c[1], tunings, copy, sweep));
                }
            }
            if (sweep) {
                printSweep(rows, tunings, copy);
                return;
            }
            System.out.printf("%n%-13s %6s %5s %6s %5s %6s %6s %9s %9s %7s%n", "shape", "ctx", "batch", "stages",
                    "split", "blocks", "per SM", "time us", "K/V GB/s", "% copy");
            for (Row r : rows) {
                System.out.printf("%-13s %6d %5d %6d %5d %6d %6d %9.1f %9.0f %6.0f%%%n", r.shape.name, r.ctx, r.batch,
                        r.tuning.stages(), r.split, r.blocks, r.blocksPerSm, r.seconds * 1e6, r.rate / 1e9,
                        100 * r.rate / copy);
            }
        }
    }

    private static List<Row> bench(CudaContext context, KernelModule module, Layout layout, Shape shape, int ctx,
                                   int batchSize, List<DecodeTuning> tunings, double copy, boolean sweep) {
        int blockSize = layout.blockSize();
        ModelConfig config = new ModelConfig(Architecture.LLAMA, 128256, shape.numHeads * shape.headDim, 8192, 1,
                shape.numHeads, shape.numKvHeads, shape.headDim, 1e-5, Rope.standard(500000.0), 131072, false, false,
                false, OptionalInt.empty(), DType.BF16, OptionalInt.empty(), List.of(1));
        int blocksPerSeq = (ctx + blockSize - 1) / blockSize;
        int numBlocks = batchSize * blocksPerSeq;
        long planeBytes = (long) numBlocks * shape.numKvHeads * blockSize * shape.headDim * Short.BYTES;
        double kvBytes = 2.0 * batchSize * ctx * config.kvSize() * Short.BYTES;
        int copies = (int) Math.max(1, (CYCLE_BYTES + 2 * planeBytes - 1) / (2 * planeBytes));
        int qkvStride = config.qSize() + 2 * config.kvSize();
        SplittableRandom random = new SplittableRandom(42);
        BatchInputs batch = decodeBatch(layout, batchSize, ctx, blocksPerSeq, numBlocks, random);
        CUstream s = context.stream();
        List<Row> rows = new ArrayList<>();
        try (DeviceBuffer cache = DeviceBuffer.allocate(copies * 2 * planeBytes);
             DeviceBuffer qkv = DeviceBuffer.allocate((long) batchSize * qkvStride * Float.BYTES)
                     .copyFrom(randomFloats(batchSize * qkvStride, random));
             DeviceBuffer out = DeviceBuffer.allocate((long) batchSize * config.qSize() * Short.BYTES)) {
            fillRandom(cache, random);
            for (DecodeTuning tuning : tunings) {
                try (PagedAttention attention = new PagedAttention(module, config, blockSize, batchSize, batchSize,
                        blocksPerSeq, tuning)) {
                    attention.prepare(s, batch);
                    AttentionPlan plan = attention.plan();
                    double seconds = graphSeconds(context, i -> {
                        long at = (long) (i % copies) * 2 * planeBytes;
                        attention.run(s, qkv.ptr(), qkvStride, cache.at(at), cache.at(at + planeBytes), out.ptr());
                    });
                    Row row = new Row(shape, ctx, batchSize, tuning, plan.maxSplit(),
                            plan.workSlots() * shape.numKvHeads, attention.decodeBlocksPerSm(), seconds,
                            kvBytes / seconds);
                    String what = sweep ? tuning.toString() : "stages " + tuning.stages();
                    System.out.printf("%s context %d batch %d %s: %.1f us, %.0f GB/s, %.0f%% of copy "
                            + "(%d cache copies)%n", shape.name, ctx, batchSize, what, seconds * 1e6,
                            row.rate / 1e9, 100 * row.rate / copy, copies);
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    /**
     * One line per tuning: its blocks a multiprocessor holds, % of copy on every case (1B then 8B, in
     * {@link #CASES} order), then the least over the small-batch cases and over all; best least-over-all first.
     */
    private static void printSweep(List<Row> rows, List<DecodeTuning> tunings, double copy) {
        record Line(DecodeTuning tuning, int blocksPerSm, double[] percent, double small, double all) {
        }
        List<Line> lines = new ArrayList<>();
        for (DecodeTuning tuning : tunings) {
            List<Row> mine = rows.stream().filter(r -> r.tuning.equals(tuning)).toList();
            double[] percent = mine.stream().mapToDouble(r -> 100 * r.rate / copy).toArray();
            double small = Double.MAX_VALUE;
            for (int i = 0; i < percent.length; i++) {
                if (smallBatch(CASES[i % CASES.length])) {
                    small = Math.min(small, percent[i]);
                }
            }
            lines.add(new Line(tuning, mine.get(0).blocksPerSm, percent, small,
                    Arrays.stream(percent).min().orElseThrow()));
        }
        lines.sort(Comparator.comparingDouble((Line l) -> -l.all).thenComparingDouble(l -> -l.small));
        StringBuilder header = new StringBuilder(String.format("%n%% of the %.0f GB/s copy (1B, then 8B: ",
                copy / 1e9));
        for (int[] c : CASES) {
            header.append(c[0]).append('x').append(c[1]).append(' ');
        }
        System.out.println(header.append("each)"));
        System.out.printf("%-24s %3s %-" + 4 * CASES.length + "s | %-" + 4 * CASES.length + "s %5s %5s%n",
                "tuning (w s p m order)", "/SM", " 1B", " 8B", "small", "all");
        for (Line l : lines) {
            StringBuilder cells = new StringBuilder();
            for (int i = 0; i < l.percent.length; i++) {
                cells.append(i == CASES.length ? " | " : "").append(String.format("%4.0f", l.percent[i]));
            }
            String mark = l.tuning.equals(DecodeTuning.DEFAULT) ? "  <- default" : "";
            System.out.printf("%-24s %3d %s %5.0f %5.0f%s%n", l.tuning, l.blocksPerSm, cells, l.small, l.all, mark);
        }
    }

    /** Every sequence decodes its token ctx - 1 over blocks drawn from a shuffled pool (in order: consecutive). */
    private static BatchInputs decodeBatch(Layout layout, int batch, int ctx, int blocksPerSeq, int numBlocks,
                                           SplittableRandom random) {
        int blockSize = layout.blockSize();
        int[] pool = new int[numBlocks];
        Arrays.setAll(pool, i -> i);
        for (int i = numBlocks - 1; i > 0 && !layout.inOrder(); i--) {
            int j = random.nextInt(i + 1);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        int[][] tables = new int[batch][];
        int[] positions = new int[batch];
        int[] slots = new int[batch];
        int[] seqLens = new int[batch];
        int[] queryStartLoc = new int[batch + 1];
        for (int s = 0; s < batch; s++) {
            tables[s] = Arrays.copyOfRange(pool, s * blocksPerSeq, (s + 1) * blocksPerSeq);
            positions[s] = ctx - 1;
            slots[s] = tables[s][(ctx - 1) / blockSize] * blockSize + (ctx - 1) % blockSize;
            seqLens[s] = ctx;
            queryStartLoc[s + 1] = s + 1;
        }
        int[] logits = new int[batch];
        Arrays.setAll(logits, i -> i);
        return new BatchInputs(new int[batch], positions, slots, queryStartLoc, seqLens, tables, logits);
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

    /** Bytes read + written per second by 1 GiB device-to-device copies: stream-ordered, and from a graph. */
    private static double[] copyBandwidth(CudaContext context) {
        long bytes = 1L << 30;
        CUstream s = context.stream();
        try (DeviceBuffer src = DeviceBuffer.allocate(bytes); DeviceBuffer dst = DeviceBuffer.allocate(bytes)) {
            fillRandom(src, new SplittableRandom(7));
            IntConsumer copy = i -> cuMemcpyDtoDAsync(dst.ptr(), src.ptr(), bytes, s);
            double eager = medianSeconds(s, () -> {
                for (int i = 0; i < ITERATIONS; i++) {
                    copy.accept(i);
                }
            });
            return new double[] {2.0 * bytes / eager, 2.0 * bytes / graphSeconds(context, copy)};
        }
    }

    /** Seconds per call of {@code work}: median over replays of a graph of {@link #ITERATIONS} calls. */
    static double graphSeconds(CudaContext context, IntConsumer work) {
        CUstream s = context.stream();
        context.synchronize();
        CUgraph graph = new CUgraph();
        cuStreamBeginCapture(s, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            for (int i = 0; i < ITERATIONS; i++) {
                work.accept(i);
            }
        } finally {
            cuStreamEndCapture(s, graph);
        }
        CUgraphExec exec = new CUgraphExec();
        cuGraphInstantiate(exec, graph, 0);
        try {
            return medianSeconds(s, () -> cuGraphLaunch(exec, s));
        } finally {
            cuGraphExecDestroy(exec);
            cuGraphDestroy(graph);
        }
    }

    /** Seconds per call: median over {@link #REPEATS} event-timed runs of {@code batch}, {@link #ITERATIONS} calls. */
    private static double medianSeconds(CUstream s, Runnable batch) {
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
        try {
            double[] times = new double[REPEATS];
            for (int r = -1; r < REPEATS; r++) {
                cuEventRecord(start, s);
                batch.run();
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
