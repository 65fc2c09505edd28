package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;

/**
 * Times {@link Gemm} on the Llama-3.2-1B and Llama-3.1-8B linear layers, in the table format of
 * {@code benchmarks/gemm_torch.py} so the two can be joined row by row. Each shape rotates over enough input sets
 * (at least 3, and at least 200 MB of weights) that W is read from device memory rather than L2, and reports the
 * median of 30 timed runs after warm-up. Each timed launch is queued behind a 200 us {@code kd_spin}, so that its
 * events time the GPU's work, as a launch runs in the decode step's graph, and not the host's submission of it
 * (without the hold, a small GEMM measured 25 to 48 us from run to run). {@code --all-tiles} adds a row per tile
 * shape and split of K that the workspace allows, the chosen plan marked {@code *}, for tuning the choice;
 * {@code --m 128,256,512} times those row counts instead of the default 1, 16, 64, 256, 2048 and 8192.
 * {@code --silu-mul} times the gate_up layers only, the GEMM with SiLU-and-multiply fused into its epilogue
 * ({@link Gemm#runSiluMul}, as the engine runs it) against the unfused GEMM followed by kd_silu_and_mul, each at its
 * chosen plan.
 */
public final class GemmBench {

    private static final int WARMUP = 5;
    private static final int RUNS = 30;
    private static final long ROTATION_BYTES = 200L << 20;
    private static final int ACTIVATION_SETS = 3;
    private static final int POOL = 1 << 24;
    /** The hold in front of each timed launch: far longer than queuing the launch and two events takes. */
    private static final long HOLD_NANOS = 200_000L;

    private record Model(String name, int hidden, int inter, int heads, int kvHeads, int headDim, int vocab) {

        List<Layer> layers() {
            return List.of(new Layer("qkv", (heads + 2 * kvHeads) * headDim, hidden),
                    new Layer("o", hidden, heads * headDim),
                    new Layer("gate_up", 2 * inter, hidden),
                    new Layer("down", hidden, inter),
                    new Layer("lm_head", vocab, hidden));
        }
    }

    private record Layer(String name, int n, int k) {
    }

    private GemmBench() {
    }

    public static void main(String[] args) {
        List<String> flags = Arrays.asList(args);
        boolean allTiles = flags.contains("--all-tiles");
        boolean siluMul = flags.contains("--silu-mul");
        int mFlag = flags.indexOf("--m");
        List<Model> models = List.of(new Model("llama-3.2-1b", 2048, 8192, 32, 8, 64, 128256),
                new Model("llama-3.1-8b", 4096, 14336, 32, 8, 128, 128256));
        int[] ms = mFlag >= 0 && mFlag + 1 < args.length
                ? Arrays.stream(args[mFlag + 1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 16, 64, 256, 2048, 8192};
        try (CudaContext context = CudaContext.create(0);
             Gemm gemm = new Gemm(KernelModule.load("gemm"), Gemm.WORKSPACE_BYTES)) {
            short[] pool = randomBf16(POOL, 1);
            CUfunction spin = KernelModule.load("profile").function("kd_spin");
            if (siluMul) {
                siluMul(context, gemm, models, ms, pool, spin);
                return;
            }
            System.out.println("# gemm bench on " + context.deviceName()
                    + ": kindling kernels (mma.sync, wgmma on sm_90), median of " + RUNS + " runs");
            System.out.printf("%-14s %-8s %6s %7s %6s %10s %9s %9s  %s%n", "model", "layer", "m", "n", "k", "time_us",
                    "TFLOP/s", "W_GB/s", "tile");
            for (Model model : models) {
                for (Layer layer : model.layers()) {
                    int maxM = Math.min(layer.name().equals("lm_head") ? 2048 : 8192,
                            Arrays.stream(ms).max().orElseThrow());
                    try (Operands operands = Operands.allocate(pool, maxM, layer.n(), layer.k(), spin)) {
                        context.synchronizeAll(); // uploads went through the legacy default stream
                        for (int m : ms) {
                            if (m > maxM) {
                                continue;
                            }
                            Gemm.Plan chosen = gemm.planFor(m, layer.n(), layer.k());
                            List<Gemm.Plan> plans = allTiles ? plans(gemm, m, layer) : List.of(chosen);
                            for (Gemm.Plan plan : plans) {
                                double us = operands.time(context, gemm, plan, m);
                                double flops = 2.0 * m * layer.n() * layer.k();
                                double weightBytes = 2.0 * layer.n() * layer.k();
                                System.out.printf("%-14s %-8s %6d %7d %6d %10.1f %9.1f %9.1f  %s x%d%s%n",
                                        model.name(), layer.name(), m, layer.n(), layer.k(), us, flops / us / 1e6,
                                        weightBytes / us / 1e3, plan.tile(), plan.splits(),
                                        plan.equals(chosen) ? " *" : "");
                            }
                        }
                    }
                }
            }
        }
    }

    /** The gate_up layers: fused GEMM + SiLU-and-multiply against GEMM, then kd_silu_and_mul. */
    private static void siluMul(CudaContext context, Gemm gemm, List<Model> models, int[] ms, short[] pool,
                                CUfunction spin) {
        Elementwise elementwise = Elementwise.load();
        System.out.println("# gate_up + SiLU-and-multiply on " + context.deviceName() + ": unfused (GEMM into fp32, "
                + "then kd_silu_and_mul) vs fused (the GEMM's epilogue writes bf16), median of " + RUNS + " runs");
        System.out.printf("%-14s %6s %7s %6s %12s %10s %8s  %s%n", "model", "m", "n", "k", "unfused_us", "fused_us",
                "speedup", "plan");
        for (Model model : models) {
            int inter = model.inter();
            int n = 2 * inter;
            int k = model.hidden();
            int maxM = Arrays.stream(ms).max().orElseThrow();
            DeviceBuffer[] act = new DeviceBuffer[ACTIVATION_SETS];
            try (Operands operands = Operands.allocate(pool, maxM, n, k, spin)) {
                for (int s = 0; s < ACTIVATION_SETS; s++) {
                    act[s] = DeviceBuffer.allocate(2L * maxM * inter);
                }
                // a K of several segments needs a scratch C (none of these shapes: k <= ONE_SEGMENT_K)
                DeviceBuffer[] scratch = Gemm.segments(k) > 1 ? operands.c() : null;
                context.synchronizeAll(); // uploads went through the legacy default stream
                for (int m : ms) {
                    double unfused = operands.time(context, i -> {
                        int s = i % ACTIVATION_SETS;
                        operands.launch(context, gemm, gemm.planFor(m, n, k), m, i);
                        elementwise.siluAndMul(context.stream(), operands.c()[s].ptr(), act[s].ptr(), m, inter);
                    });
                    double fused = operands.time(context, i -> {
                        int s = i % ACTIVATION_SETS;
                        DeviceBuffer w = operands.w()[i % operands.w().length];
                        gemm.runSiluMul(context.stream(), operands.a()[s].ptr(), k, w.ptr(), null,
                                scratch == null ? null : scratch[s].ptr(), act[s].ptr(), inter, m, inter, k);
                    });
                    System.out.printf("%-14s %6d %7d %6d %12.1f %10.1f %7.2fx  %s x%d%n", model.name(), m, n, k,
                            unfused, fused, unfused / fused, gemm.planFor(m, n, k).tile(),
                            gemm.planFor(m, n, k).splits());
                }
            } finally {
                for (DeviceBuffer b : act) {
                    if (b != null) {
                        b.close();
                    }
                }
            }
        }
    }

    /** Every tile, unsplit and at each split of K that fits the workspace. */
    private static List<Gemm.Plan> plans(Gemm gemm, int m, Layer layer) {
        List<Gemm.Plan> plans = new ArrayList<>();
        int segments = Gemm.segments(layer.k());
        for (Gemm.Tile tile : gemm.tiles()) {
            int last = 0;
            for (int perCta = segments; perCta >= 1; perCta--) {
                Gemm.Plan plan = new Gemm.Plan(tile, (segments + perCta - 1) / perCta);
                if (plan.splits() != last
                        && plan.workspaceBytes(m, layer.n(), layer.k()) <= Gemm.WORKSPACE_BYTES) {
                    plans.add(plan);
                }
                last = plan.splits();
            }
        }
        return plans;
    }

    /** Input sets of one layer: W rotates over enough copies to spill L2, A and C over 3, sized for maxM rows. */
    private record Operands(int n, int k, DeviceBuffer[] a, DeviceBuffer[] w, DeviceBuffer[] c, CUfunction spin)
            implements AutoCloseable {

        /** @param spin profile.cu's kd_spin, which holds the stream in front of each timed launch */
        static Operands allocate(short[] pool, int maxM, int n, int k, CUfunction spin) {
            long weightBytes = 2L * n * k;
            int weightSets = (int) Math.max(ACTIVATION_SETS, (ROTATION_BYTES + weightBytes - 1) / weightBytes);
            Operands o = new Operands(n, k, new DeviceBuffer[ACTIVATION_SETS], new DeviceBuffer[weightSets],
                    new DeviceBuffer[ACTIVATION_SETS], spin);
            try {
                for (int s = 0; s < weightSets; s++) {
                    o.w[s] = fill(DeviceBuffer.allocate(weightBytes), pool, 7919L * s);
                }
                for (int s = 0; s < ACTIVATION_SETS; s++) {
                    o.a[s] = fill(DeviceBuffer.allocate(2L * maxM * k), pool, 104729L * (s + 1));
                    o.c[s] = DeviceBuffer.allocate(4L * maxM * n);
                }
            } catch (RuntimeException e) {
                o.close();
                throw e;
            }
            return o;
        }

        /** Median microseconds of one GEMM of m rows. */
        double time(CudaContext context, Gemm gemm, Gemm.Plan plan, int m) {
            return time(context, i -> launch(context, gemm, plan, m, i));
        }

        /** Median microseconds of {@code launch.accept(i)}, the i-th launch, which picks its input set from i. */
        double time(CudaContext context, IntConsumer launch) {
            CUevent start = new CUevent();
            CUevent stop = new CUevent();
            cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
            cuEventCreate(stop, CUevent_flags.CU_EVENT_DEFAULT);
            try {
                for (int i = 0; i < WARMUP; i++) {
                    launch.accept(i);
                }
                float[] ms = new float[RUNS];
                float[] elapsed = new float[1];
                for (int i = 0; i < RUNS; i++) {
                    // the stream waits on kd_spin while the host queues the events and the launch behind it, so the
                    // events time the GPU's work and not how long the host takes to submit it
                    Launch.kernel(spin, context.stream(), 1, 1, 1, 1, 0, HOLD_NANOS);
                    cuEventRecord(start, context.stream());
                    launch.accept(i);
                    cuEventRecord(stop, context.stream());
                    cuEventSynchronize(stop);
                    cuEventElapsedTime(elapsed, start, stop);
                    ms[i] = elapsed[0];
                }
                Arrays.sort(ms);
                return ms[RUNS / 2] * 1000.0;
            } finally {
                cuEventDestroy(start);
                cuEventDestroy(stop);
            }
        }

        private void launch(CudaContext context, Gemm gemm, Gemm.Plan plan, int m, int i) {
            int s = i % ACTIVATION_SETS;
            gemm.run(context.stream(), a[s].ptr(), k, w[i % w.length].ptr(), c[s].ptr(), n, m, n, k, plan);
        }

        @Override
        public void close() {
            for (DeviceBuffer[] buffers : List.of(a, w, c)) {
                for (DeviceBuffer b : buffers) {
                    if (b != null) {
                        b.close();
                    }
                }
            }
        }
    }

    /** Fills the buffer with the pool's values, starting at a per-buffer offset (random data, never zeros). */
    private static DeviceBuffer fill(DeviceBuffer buffer, short[] pool, long offset) {
        int start = (int) (offset % (pool.length / 2));
        long bytes = buffer.bytes();
        for (long done = 0; done < bytes; ) {
            long count = Math.min(2L * (pool.length - start), bytes - done);
            cuMemcpyHtoD(buffer.at(done), Pointer.to(pool).withByteOffset(2L * start), count);
            done += count;
            start = 0;
        }
        return buffer;
    }

    private static short[] randomBf16(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        short[] values = new short[count];
        for (int i = 0; i < count; i++) {
            values[i] = Bf16.fromFloat((float) (random.nextDouble() * 2 - 1));
        }
        return values;
    }
}
