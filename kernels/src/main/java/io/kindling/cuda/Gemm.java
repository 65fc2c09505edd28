package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuCtxGetDevice;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * {@code C[m][n] (fp32) = A[m][k] (bf16) x W[n][k]^T (bf16)} on tensor cores ({@code gemm.cu}), and the MLP's
 * gate_up projection with SiLU-and-multiply fused into the same launch's epilogue ({@link #runSiluMul}).
 *
 * <p>Every tile shape sums each output element over K in the same order (64-element chunks ascending within
 * segments of {@link #segmentK}, the segment totals ascending), whether one CTA owns all of K or a split launch
 * spreads the segments over several and adds their totals after; so the plan picked for an m changes speed, never
 * bits: a row's result does not depend on which rows share its batch.
 */
final class Gemm implements AutoCloseable {

    /**
     * gemm.cu's ONE_SEGMENT_K: a k up to this is one segment. A CTA that owns several segments adds each total into
     * C, a read-modify-write between segments, so the projections whose k is the hidden size (up to 4096 on
     * Llama-3.1-8B) stay one segment. (With segments of 2048 everywhere, and the flush then inside the chunk loop,
     * the unsplit 8B GEMMs of k = 4096 ran 21-49% slower at m = 256: GemmBench --all-tiles on an H100, 2026-12-06.)
     */
    static final int ONE_SEGMENT_K = 4096;
    /**
     * gemm.cu's LONG_K_SEGMENT: the segments of a longer k, the down projections'. Short enough that a split fills
     * the GPU at decode sizes (Llama-3.2-1B's down at m = 256: 32 output tiles of 128 x 128, 4 segments).
     */
    static final int LONG_K_SEGMENT = 2048;
    /**
     * The split launches' segment totals: enough for Llama-3.1-8B's down projection (7 segments) up to 585 rows and
     * Llama-3.2-1B's (4 segments) up to 2,048; a split that would need more is not planned.
     */
    static final long WORKSPACE_BYTES = 64L << 20;
    /** Device rates the plan's time estimate assumes: an H100's copy bandwidth and a launch in a stream. */
    private static final double MEMORY_BYTES_PER_S = 3.0e12;
    private static final double LAUNCH_S = 2e-6;
    /** {@link Tile#rate}'s unit per multiprocessor: about 380 TFLOP/s over the 132 multiprocessors it came from. */
    private static final double RATE_UNIT_PER_SM = 380e12 / 132;
    /** Pipeline fill and epilogue of a wave of CTAs, which a split pays once more per extra wave. */
    private static final double WAVE_OVERHEAD_S = 1.5e-6;
    private static final double SPLIT_MARGIN = 0.9;

    /**
     * A launch: the tile, and over how many CTAs each output tile's K segments are spread (1: one CTA owns all of
     * K and no workspace is used).
     */
    record Plan(Tile tile, int splits) {

        Plan {
            if (splits < 1) {
                throw new IllegalArgumentException("splits must be at least 1, got " + splits);
            }
        }

        int segmentsPerCta(int k) {
            return (segments(k) + splits - 1) / splits;
        }

        /** The workspace a launch of m x n takes: one [m][n] slab per segment when split, none otherwise. */
        long workspaceBytes(int m, int n, int k) {
            return splits == 1 ? 0 : 4L * segments(k) * m * n;
        }

        /**
         * Estimated seconds: the slowest CTA's K share in waves (see {@link Tile#cost}), no less than reading the
         * operands once, plus what a split adds: writing and reading the segment slabs, writing C, a second launch.
         */
        double seconds(int m, int n, int k, int multiprocessors) {
            int kShare = Math.min(k, segmentsPerCta(k) * segmentK(k));
            long ctas = tile.ctas(m, n) * splits;
            long slots = (long) multiprocessors * tile.perSm;
            long waves = (ctas + slots - 1) / slots;
            double wave = 2.0 * tile.rows * tile.cols * tile.perSm * kShare / (tile.rate * RATE_UNIT_PER_SM)
                    + WAVE_OVERHEAD_S;
            double operands = 2.0 * ((long) n + m) * k / MEMORY_BYTES_PER_S;
            double time = Math.max(waves * wave, operands);
            if (splits > 1) {
                time += 4.0 * m * n * (2 * segments(k) + 1) / MEMORY_BYTES_PER_S + LAUNCH_S;
            }
            return time;
        }
    }

    /**
     * The unit of K a split launch hands to one CTA, a function of k alone (so the order of a row's sums depends on
     * no other row): all of a k up to {@link #ONE_SEGMENT_K}, else {@link #LONG_K_SEGMENT}.
     */
    static int segmentK(int k) {
        return k <= ONE_SEGMENT_K ? ONE_SEGMENT_K : LONG_K_SEGMENT;
    }

    static int segments(int k) {
        return (k + segmentK(k) - 1) / segmentK(k);
    }

    /**
     * What a launch does with the finished totals: store them as C, or gate_up's SiLU-and-multiply. Each tile has
     * an entry point per epilogue ({@code symbol + suffix}), and split launches a reduction per epilogue.
     */
    private enum Epilogue {
        STORE("", "kd_gemm_reduce"), SILU_MUL("_silu_mul", "kd_gemm_reduce_silu_mul");

        final String suffix;
        final String reduce;

        Epilogue(String suffix, String reduce) {
            this.suffix = suffix;
            this.reduce = reduce;
        }
    }

    /**
     * The kernel's tile shapes, mirroring {@code gemm.cu}'s {@code KD_GEMM} lines. {@code perSm} is how many CTAs
     * fit on one multiprocessor (shared memory and registers). {@code rate} is the tile's measured throughput per
     * multiprocessor at full waves, in units of about 380 TFLOP/s: {@code GemmBench --all-tiles} on an H200,
     * 2026-11-25 (benchmarks/logs/gemm-alltiles-h200-2026-11-25.txt), the median over the Llama-3.2-1B shapes at
     * m = 2048 and 8192. Recalibrate from that bench when a kernel changes. T64X128_WGMMA came later: 0.8 is its
     * 305 TFLOP/s there on an H100 (2026-12-07, gemm-alltiles-wgmma64-h100-2026-12-07-s11.txt, m = 2048), where
     * T128X128_WGMMA measured 389 (1.02, not its 1.35). Kept so, the rates choose it where the engine's decode step
     * measured it faster (Llama-3.2-1B qkv and Llama-3.1-8B o at m = 256) and not where slower (the 1B o).
     */
    enum Tile {
        T192X128_WGMMA("kd_gemm_192x128_wgmma", 192, 128, 384, 205824, 1, 1.15, true),
        T128X128_WGMMA("kd_gemm_128x128_wgmma", 128, 128, 256, 197632, 1, 1.35, true),
        T64X128_WGMMA("kd_gemm_64x128_wgmma", 64, 128, 128, 197632, 1, 0.8, true),
        T128X256("kd_gemm_128x256", 128, 256, 256, 196608, 1, 0.8, false),
        T128X128("kd_gemm_128x128", 128, 128, 128, 98304, 2, 0.9, false),
        T64X128("kd_gemm_64x128", 64, 128, 128, 98304, 2, 0.72, false),
        T64X64("kd_gemm_64x64", 64, 64, 128, 65536, 3, 0.66, false),
        T64X32("kd_gemm_64x32", 64, 32, 128, 98304, 2, 0.48, false),
        T16X128("kd_gemm_16x128", 16, 128, 128, 110592, 2, 0.33, false),
        T16X32("kd_gemm_16x32", 16, 32, 64, 98304, 2, 0.25, false);

        final String symbol;
        final int rows;
        final int cols;
        final int threads;
        final int sharedBytes;
        final int perSm;
        final double rate;
        final boolean hopperOnly;

        Tile(String symbol, int rows, int cols, int threads, int sharedBytes, int perSm, double rate,
             boolean hopperOnly) {
            this.symbol = symbol;
            this.rows = rows;
            this.cols = cols;
            this.threads = threads;
            this.sharedBytes = sharedBytes;
            this.perSm = perSm;
            this.rate = rate;
            this.hopperOnly = hopperOnly;
        }

        long ctas(int m, int n) {
            return (long) ((m + rows - 1) / rows) * ((n + cols - 1) / cols);
        }

        /**
         * Estimated time in arbitrary units: waves of up to {@code perSm} CTAs on every multiprocessor, each as long
         * as a full one. A multiprocessor reaches the tile's rate only with {@code perSm} CTAs resident to hide each
         * other's latencies; one CTA alone runs at about {@code 1 / perSm} of it, so a grid too small to fill the
         * slots saves nothing per wave. (Counting such a wave as faster picked 64-row mma.sync tiles over the
         * one-per-SM wgmma tile at m = 192..512, up to 1.24x slower: GemmBench --all-tiles on an H100,
         * 2026-12-06.) Padding rows and columns cost as much as real ones.
         */
        double cost(int m, int n, int multiprocessors) {
            long ctas = ctas(m, n);
            long waves = (ctas + (long) multiprocessors * perSm - 1) / ((long) multiprocessors * perSm);
            return waves * (double) rows * cols * perSm / rate;
        }
    }

    // Decode (m <= 64) streams W, so its tiles waste tensor work on padding rows but keep many CTAs, each with a
    // deep pipeline, reading W at memory bandwidth: the first that fills every multiprocessor once wins, else the
    // last (the most CTAs). Larger m is compute-bound: the tile with the least estimated time wins.
    private static final List<Tile> DECODE_16 = List.of(Tile.T16X128, Tile.T16X32);
    private static final List<Tile> DECODE_64 = List.of(Tile.T64X128, Tile.T64X32);
    /**
     * The tile offered for a k of one segment only; a long K splits a larger tile instead. On Llama-3.1-8B's down at
     * m = 256 the 64 x 128 wgmma tile unsplit (101.7 us isolated, against 97.3 for T128X128_WGMMA split in two) made
     * the decode step's down 0.19 ms slower (H100, 2026-12-07).
     */
    private static final Tile ONE_SEGMENT_ONLY = Tile.T64X128_WGMMA;
    private static final List<Tile> PREFILL = List.of(Tile.T192X128_WGMMA, Tile.T128X128_WGMMA, Tile.T64X128_WGMMA,
            Tile.T128X256, Tile.T128X128, Tile.T64X128, Tile.T64X64, Tile.T64X32);

    private final Map<Epilogue, Map<Tile, CUfunction>> functions = new EnumMap<>(Epilogue.class);
    private final Map<Epilogue, CUfunction> reduce = new EnumMap<>(Epilogue.class);
    private final int multiprocessors;
    /** The tiles this device runs, less {@link #ONE_SEGMENT_ONLY}: computed once, as planning runs every launch. */
    private final Set<Tile> longKTiles;
    /** Null when constructed without one: then every launch keeps all of K in one CTA. */
    private final DeviceBuffer workspace;

    /** @param workspaceBytes device memory for split launches' segment totals; 0 plans no split */
    Gemm(KernelModule module, long workspaceBytes) {
        CUdevice device = new CUdevice();
        cuCtxGetDevice(device);
        boolean hopper = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) == 9;
        for (Epilogue epilogue : Epilogue.values()) {
            Map<Tile, CUfunction> tiles = new EnumMap<>(Tile.class);
            for (Tile tile : Tile.values()) {
                if (hopper || !tile.hopperOnly) {
                    tiles.put(tile, module.function(tile.symbol + epilogue.suffix));
                }
            }
            functions.put(epilogue, tiles);
            reduce.put(epilogue, module.function(epilogue.reduce));
        }
        longKTiles = forLongK(functions.get(Epilogue.STORE).keySet());
        multiprocessors = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        workspace = workspaceBytes > 0 ? DeviceBuffer.allocate(workspaceBytes) : null;
    }

    /** The tiles this device runs, for tests and benchmarks that try each. */
    List<Tile> tiles() {
        return List.copyOf(functions.get(Epilogue.STORE).keySet());
    }

    /**
     * Enqueues {@code C = A W^T} on {@code stream}.
     *
     * @param lda row stride of A in elements, a multiple of 8 (16-byte rows)
     * @param ldc row stride of C in elements
     * @param k   a multiple of 8; W's row stride
     */
    void run(CUstream stream, CUdeviceptr a, int lda, CUdeviceptr w, CUdeviceptr c, int ldc, int m, int n, int k) {
        run(stream, a, lda, w, c, ldc, m, n, k, planFor(m, n, k));
    }

    /** As {@link #run(CUstream, CUdeviceptr, int, CUdeviceptr, CUdeviceptr, int, int, int, int)} with a given plan. */
    void run(CUstream stream, CUdeviceptr a, int lda, CUdeviceptr w, CUdeviceptr c, int ldc, int m, int n, int k,
             Plan plan) {
        check(n >= 1, "n", n, "at least 1");
        check(ldc >= n, "ldc", ldc, "at least n = " + n);
        launch(Epilogue.STORE, stream, a, lda, w, c, ldc, m, n, k, plan, new Object[0], new Object[0]);
    }

    /**
     * Enqueues the MLP's gate_up projection and activation in one launch (two for a split plan):
     * {@code out[r][j] = bf16(silu(g + gateBias[j]) * (u + upBias[j]))}, g and u being row r of A times the gate and
     * up rows j of W. Bit for bit what {@link #run} of the checkpoint's row order, {@link Elementwise#addBias} where
     * there is a bias, and {@link Elementwise#siluAndMul} give, for any plan: the totals are summed in the same
     * order, and gemm.cu's epilogue shares kd_silu_and_mul's function.
     *
     * @param w       bf16 {@code [2 inter][k]}: gate_proj's and up_proj's rows in {@link GateUpOrder}
     * @param bias    fp32 {@code [2 inter]}, gate's then up's as in the checkpoint, or null
     * @param scratch fp32 {@code [m][2 inter]}, the running totals of a CTA that owns a K of several segments; only
     *                used, and required, where k exceeds {@link #ONE_SEGMENT_K}
     * @param out     bf16, row stride {@code ldo}
     * @param inter   the intermediate size, a multiple of {@link GateUpOrder#GROUP}
     */
    void runSiluMul(CUstream stream, CUdeviceptr a, int lda, CUdeviceptr w, CUdeviceptr bias, CUdeviceptr scratch,
                    CUdeviceptr out, int ldo, int m, int inter, int k) {
        runSiluMul(stream, a, lda, w, bias, scratch, out, ldo, m, inter, k, planFor(m, 2 * inter, k));
    }

    /** As {@link #runSiluMul(CUstream, CUdeviceptr, int, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, int,
     *  int, int, int)} with a given plan. */
    void runSiluMul(CUstream stream, CUdeviceptr a, int lda, CUdeviceptr w, CUdeviceptr bias, CUdeviceptr scratch,
                    CUdeviceptr out, int ldo, int m, int inter, int k, Plan plan) {
        check(inter >= 1 && inter % GateUpOrder.GROUP == 0, "inter", inter,
                "a positive multiple of " + GateUpOrder.GROUP + " (gate and up rows interleave in such groups)");
        check(ldo >= inter, "ldo", ldo, "at least inter = " + inter);
        check(scratch != null || segments(k) == 1, "k", k, "at most " + ONE_SEGMENT_K + " without a scratch C");
        CUdeviceptr biasOrNull = bias == null ? new CUdeviceptr() : bias;
        launch(Epilogue.SILU_MUL, stream, a, lda, w, out, ldo, m, 2 * inter, k, plan,
                new Object[] {biasOrNull, scratch == null ? new CUdeviceptr() : scratch}, new Object[] {biasOrNull});
    }

    /**
     * Checks the shapes and the plan, then launches the tile's entry point of {@code epilogue} with its arguments
     * {@code (a, lda, w, out, ldo, m, n, k, slabs, segments per CTA, kernelExtra...)}, and for a split the
     * epilogue's reduction with {@code (slabs, segments, out, ldo, m, n, reduceExtra...)}.
     */
    private void launch(Epilogue epilogue, CUstream stream, CUdeviceptr a, int lda, CUdeviceptr w, CUdeviceptr out,
                        int ldo, int m, int n, int k, Plan plan, Object[] kernelExtra, Object[] reduceExtra) {
        check(m >= 1, "m", m, "at least 1");
        check(k >= 8 && k % 8 == 0, "k", k, "a positive multiple of 8");
        check(lda >= k && lda % 8 == 0, "lda", lda, "a multiple of 8 and at least k = " + k);
        Tile tile = plan.tile();
        CUfunction function = functions.get(epilogue).get(tile);
        if (function == null) {
            throw new IllegalArgumentException("gemm: tile " + tile + " needs a compute capability 9.x device");
        }
        int perCta = plan.segmentsPerCta(k);
        check((segments(k) + perCta - 1) / perCta == plan.splits(), "splits", plan.splits(),
                "one of the ways to share k = " + k + "'s " + segments(k) + " segments of " + segmentK(k));
        check(plan.workspaceBytes(m, n, k) <= workspaceBytes(), "splits", plan.splits(),
                "within the " + workspaceBytes() + "-byte workspace for m = " + m + ", n = " + n);
        long ctas = tile.ctas(m, n);
        check(ctas <= Integer.MAX_VALUE, "n", n, "small enough for one grid with m = " + m);
        CUdeviceptr slabs = plan.splits() == 1 ? new CUdeviceptr() : workspace.ptr();
        Launch.kernel(function, stream, (int) ctas, plan.splits(), 1, tile.threads, tile.sharedBytes,
                concat(new Object[] {a, lda, w, out, ldo, m, n, k, slabs, perCta}, kernelExtra));
        if (plan.splits() > 1) {
            int threads = 256;
            long blocks = Math.min(((long) m * n + threads - 1) / threads, 4L * multiprocessors * 8);
            Launch.kernel(reduce.get(epilogue), stream, (int) blocks, 1, 1, threads, 0,
                    concat(new Object[] {slabs, segments(k), out, ldo, m, n}, reduceExtra));
        }
    }

    private static Object[] concat(Object[] first, Object[] second) {
        Object[] all = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }

    private long workspaceBytes() {
        return workspace == null ? 0 : workspace.bytes();
    }

    /** The plan {@link #run(CUstream, CUdeviceptr, int, CUdeviceptr, CUdeviceptr, int, int, int, int)} uses. */
    Plan planFor(int m, int n, int k) {
        return choose(m, n, k, multiprocessors, segments(k) > 1 ? longKTiles : functions.get(Epilogue.STORE).keySet(),
                workspaceBytes());
    }

    /**
     * The plan for an m x n x k product on a device of that many multiprocessors running {@code available}, with
     * {@code workspaceBytes} for split launches. Decode sizes (m <= 64) stream W with many CTAs already and keep
     * all of K in one; above, {@link #choose(int, int, int, Set)}'s tile unless a split of some tile is estimated
     * at least {@code 1 / SPLIT_MARGIN} faster, since the estimate is rougher than the tile choice's measured one.
     */
    static Plan choose(int m, int n, int k, int multiprocessors, Set<Tile> available, long workspaceBytes) {
        Set<Tile> offered = segments(k) > 1 ? forLongK(available) : available;
        Plan best = new Plan(choose(m, n, multiprocessors, offered), 1);
        if (m <= 64) {
            return best;
        }
        double bestSeconds = best.seconds(m, n, k, multiprocessors) * SPLIT_MARGIN;
        for (Tile tile : PREFILL) {
            if (!offered.contains(tile)) {
                continue;
            }
            for (int perCta = segments(k) - 1; perCta >= 1; perCta--) {
                Plan plan = new Plan(tile, (segments(k) + perCta - 1) / perCta);
                double seconds = plan.seconds(m, n, k, multiprocessors);
                if (plan.workspaceBytes(m, n, k) <= workspaceBytes && seconds < bestSeconds) {
                    best = plan;
                    bestSeconds = seconds;
                }
            }
        }
        return best;
    }

    /** {@code tiles} less {@link #ONE_SEGMENT_ONLY}: the set itself where it does not hold that tile. */
    private static Set<Tile> forLongK(Set<Tile> tiles) {
        if (!tiles.contains(ONE_SEGMENT_ONLY)) {
            return tiles;
        }
        Set<Tile> rest = EnumSet.copyOf(tiles);
        rest.remove(ONE_SEGMENT_ONLY);
        return rest;
    }

    /** The tile for an m x n output on a device of that many multiprocessors running {@code available}. */
    static Tile choose(int m, int n, int multiprocessors, Set<Tile> available) {
        if (m > 64) {
            Tile best = null;
            for (Tile tile : PREFILL) {
                if (available.contains(tile)
                        && (best == null || tile.cost(m, n, multiprocessors) < best.cost(m, n, multiprocessors))) {
                    best = tile;
                }
            }
            return best;
        }
        List<Tile> candidates = m <= 16 ? DECODE_16 : DECODE_64;
        for (Tile tile : candidates) {
            if (tile.ctas(m, n) >= multiprocessors) {
                return tile;
            }
        }
        return candidates.get(candidates.size() - 1);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        cuDeviceGetAttribute(value, attribute, device);
        return value[0];
    }

    private static void check(boolean ok, String name, long value, String requirement) {
        if (!ok) {
            throw new IllegalArgumentException("gemm: " + name + " = " + value + " must be " + requirement);
        }
    }

    @Override
    public void close() {
        if (workspace != null) {
            workspace.close();
        }
    }
}
