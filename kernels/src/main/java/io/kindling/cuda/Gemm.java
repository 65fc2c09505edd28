package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuCtxGetDevice;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * {@code C[m][n] (fp32) = A[m][k] (bf16) x W[n][k]^T (bf16)} on tensor cores ({@code gemm.cu}).
 *
 * <p>Every tile shape sums each output element over K in the same order (64-element chunks, ascending), so the
 * tile picked for an m changes speed, never bits: a row's result does not depend on which rows share its batch.
 */
final class Gemm {

    /**
     * The kernel's tile shapes, mirroring {@code gemm.cu}'s {@code KD_GEMM} lines. {@code perSm} is how many CTAs
     * fit on one multiprocessor (shared memory and registers). {@code rate} is the tile's measured throughput per
     * multiprocessor at full waves, in units of about 380 TFLOP/s: {@code GemmBench --all-tiles} on an H200,
     * 2026-11-25 (benchmarks/logs/gemm-alltiles-h200-2026-11-25.txt), the median over the Llama-3.2-1B shapes at
     * m = 2048 and 8192. Recalibrate from that bench when a kernel changes.
     */
    enum Tile {
        T192X128_WGMMA("kd_gemm_192x128_wgmma", 192, 128, 384, 205824, 1, 1.15, true),
        T128X128_WGMMA("kd_gemm_128x128_wgmma", 128, 128, 256, 197632, 1, 1.35, true),
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
    private static final List<Tile> PREFILL = List.of(Tile.T192X128_WGMMA, Tile.T128X128_WGMMA, Tile.T128X256,
            Tile.T128X128, Tile.T64X128, Tile.T64X64, Tile.T64X32);

    private final Map<Tile, CUfunction> functions = new EnumMap<>(Tile.class);
    private final int multiprocessors;

    Gemm(KernelModule module) {
        CUdevice device = new CUdevice();
        cuCtxGetDevice(device);
        boolean hopper = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) == 9;
        for (Tile tile : Tile.values()) {
            if (hopper || !tile.hopperOnly) {
                functions.put(tile, module.function(tile.symbol));
            }
        }
        multiprocessors = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    }

    /** The tiles this device runs, for tests and benchmarks that try each. */
    List<Tile> tiles() {
        return List.copyOf(functions.keySet());
    }

    /**
     * Enqueues {@code C = A W^T} on {@code stream}.
     *
     * @param lda row stride of A in elements, a multiple of 8 (16-byte rows)
     * @param ldc row stride of C in elements
     * @param k   a multiple of 8; W's row stride
     */
    void run(CUstream stream, CUdeviceptr a, int lda, CUdeviceptr w, CUdeviceptr c, int ldc, int m, int n, int k) {
        run(stream, a, lda, w, c, ldc, m, n, k, tileFor(m, n));
    }

    /** As {@link #run(CUstream, CUdeviceptr, int, CUdeviceptr, CUdeviceptr, int, int, int, int)} with a given tile. */
    void run(CUstream stream, CUdeviceptr a, int lda, CUdeviceptr w, CUdeviceptr c, int ldc, int m, int n, int k,
             Tile tile) {
        check(m >= 1, "m", m, "at least 1");
        check(n >= 1, "n", n, "at least 1");
        check(k >= 8 && k % 8 == 0, "k", k, "a positive multiple of 8");
        check(lda >= k && lda % 8 == 0, "lda", lda, "a multiple of 8 and at least k = " + k);
        check(ldc >= n, "ldc", ldc, "at least n = " + n);
        if (!functions.containsKey(tile)) {
            throw new IllegalArgumentException("gemm: tile " + tile + " needs a compute capability 9.x device");
        }
        long ctas = tile.ctas(m, n);
        check(ctas <= Integer.MAX_VALUE, "n", n, "small enough for one grid with m = " + m);
        Launch.kernel(functions.get(tile), stream, (int) ctas, 1, 1, tile.threads, tile.sharedBytes,
                a, lda, w, c, ldc, m, n, k);
    }

    /** The tile {@link #run(CUstream, CUdeviceptr, int, CUdeviceptr, CUdeviceptr, int, int, int, int)} uses. */
    Tile tileFor(int m, int n) {
        return choose(m, n, multiprocessors, functions.keySet());
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
}
