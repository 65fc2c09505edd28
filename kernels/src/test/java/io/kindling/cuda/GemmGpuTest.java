package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.cpu.Activation;
import io.kindling.backend.cpu.PackedMatrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import jcuda.Sizeof;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bf16 GEMM against the CPU backend's float32 {@code x W^T} on the same bf16-rounded inputs; the fused gate_up
 * GEMM with SiLU-and-multiply against the unfused GPU path bit for bit, and against the CPU twin.
 */
class GemmGpuTest {

    // chunked fp32 accumulation of exact bf16 products: ~5e-7 relative by gemm.cu's error model at k = 14336
    private static final double TOLERANCE = 1e-5;
    // the fused output is bf16: rounding to nearest errs by at most 2^-8 relative, on top of the GEMM's error
    private static final double BF16_TOLERANCE = 0x1p-8 + 10 * TOLERANCE;
    private static final int CPU_THREADS = Runtime.getRuntime().availableProcessors();

    private static Gemm gemm;
    private static Elementwise elementwise;

    @BeforeAll
    static void load() {
        Assumptions.assumeTrue(CudaTestSupport.available(), () -> "no GPU: " + CudaTestSupport.whyUnavailable());
        gemm = new Gemm(KernelModule.load("gemm"), Gemm.WORKSPACE_BYTES);
        elementwise = Elementwise.load();
    }

    @AfterAll
    static void free() {
        if (gemm != null) {
            gemm.close();
        }
    }

    /** Every tile, unsplit and at every split of k's segments. */
    private static List<Gemm.Plan> everyPlan(int k) {
        List<Gemm.Plan> plans = new ArrayList<>();
        int segments = Gemm.segments(k);
        for (Gemm.Tile tile : gemm.tiles()) {
            for (int perCta = segments; perCta >= 1; perCta--) {
                Gemm.Plan plan = new Gemm.Plan(tile, (segments + perCta - 1) / perCta);
                if (!plans.contains(plan)) {
                    plans.add(plan);
                }
            }
        }
        return plans;
    }

    static Stream<Arguments> shapes() {
        // tiny-fixture widths (k = 40 and 48 leave a partial K tile), then Llama-3.2-1B's o and qkv
        int[][] nk = {{16, 16}, {24, 40}, {96, 16}, {80, 48}, {40, 16}, {2048, 2048}, {3072, 2048}};
        int[] ms = {1, 3, 16, 17, 64, 100, 256, 1000};
        List<Arguments> cases = new ArrayList<>();
        for (int[] s : nk) {
            for (int m : ms) {
                cases.add(Arguments.of(m, s[0], s[1]));
            }
        }
        // Llama-3.2-1B gate_up, down and lm_head, few rows only (the CPU reference is the slow part)
        for (int m : new int[] {1, 17}) {
            cases.add(Arguments.of(m, 16384, 2048));
            cases.add(Arguments.of(m, 2048, 8192));
            cases.add(Arguments.of(m, 128256, 2048));
        }
        cases.add(Arguments.of(300, 16384, 2048));
        // decode-sized batches on long K, where the plan splits K: Llama-3.2-1B down, Llama-3.1-8B o and down
        cases.add(Arguments.of(256, 2048, 8192));
        cases.add(Arguments.of(256, 4096, 4096));
        cases.add(Arguments.of(200, 4096, 14336));
        return cases.stream();
    }

    @ParameterizedTest(name = "m={0} n={1} k={2}")
    @MethodSource("shapes")
    void matchesCpuTwin(int m, int n, int k) {
        Problem p = Problem.random(m, n, k, k, n, seed(m, n, k));
        float[] got = p.runOnGpu(gemm.planFor(m, n, k));
        float[] want = PackedMatrix.multiplyTransposed(p.a, m, p.w, n, k, CPU_THREADS);
        double err = CudaTestSupport.relError(got, want);
        System.out.printf("gemm m=%d n=%d k=%d plan=%s rel_err=%.3e%n", m, n, k, gemm.planFor(m, n, k), err);
        assertTrue(err < TOLERANCE, () -> "rel error " + err + " for m=" + m + " n=" + n + " k=" + k);
    }

    /** Every tile, unsplit and split, on padded A rows and an odd C stride; k leaves a short segment and K tile. */
    @Test
    void stridedOperandsWriteOnlyTheirColumns() {
        int m = 70;
        int n = 50;
        int k = 2 * Gemm.LONG_K_SEGMENT + 40;
        int lda = k + 24;
        int ldc = n + 3; // odd: the kernel must fall back from paired stores
        Problem p = Problem.random(m, n, k, lda, ldc, 11);
        float[] want = PackedMatrix.multiplyTransposed(p.a, m, p.w, n, k, CPU_THREADS);
        for (Gemm.Plan plan : everyPlan(k)) {
            float[] out = p.runOnGpuStrided(plan);
            float[] got = new float[m * n];
            for (int r = 0; r < m; r++) {
                System.arraycopy(out, r * ldc, got, r * n, n);
                for (int col = n; col < ldc; col++) {
                    int at = r * ldc + col;
                    assertTrue(Float.isNaN(out[at]), () -> plan + ": padding element " + at + " of C was written");
                }
            }
            double err = CudaTestSupport.relError(got, want);
            System.out.printf("gemm strided plan=%s m=%d n=%d k=%d lda=%d ldc=%d rel_err=%.3e%n", plan, m, n, k,
                    lda, ldc, err);
            assertTrue(err < TOLERANCE, () -> plan + ": rel error " + err);
        }
    }

    /**
     * Every tile shape, split of K or not, and every batch a row appears in, gives that row the same bits; each
     * stays accurate at Llama-3.1-8B's longest k. m, n and k (a multiple of 8, not of 16) all leave partial tiles,
     * and k a short last segment.
     */
    @Test
    void rowBitsDependOnNeitherTileNorBatch() {
        int m = 77;
        int n = 1000;
        int k = 14328;
        Problem p = Problem.random(m, n, k, k, n, 23);
        float[] want = PackedMatrix.multiplyTransposed(p.a, m, p.w, n, k, CPU_THREADS);
        float[] reference = null;
        for (Gemm.Plan plan : everyPlan(k)) {
            float[] got = p.runOnGpu(plan);
            double err = CudaTestSupport.relError(got, want);
            System.out.printf("gemm plan=%s m=%d n=%d k=%d rel_err=%.3e%n", plan, m, n, k, err);
            assertTrue(err < TOLERANCE, () -> plan + ": rel error " + err);
            if (reference == null) {
                reference = got;
            } else {
                assertArrayEquals(reference, got, 0f, plan + " changed some bits");
            }
        }
        // the first 5 rows alone, through the decode path
        Problem firstRows = p.firstRows(5);
        float[] alone = firstRows.runOnGpu(gemm.planFor(5, n, k));
        float[] head = new float[5 * n];
        System.arraycopy(reference, 0, head, 0, head.length);
        assertArrayEquals(head, alone, 0f, "rows computed in a batch of 5 differ from the same rows in a batch of 77");
        System.out.printf("gemm batch invariance m=%d vs 5 with %d plans and %s: bit-identical%n", m,
                everyPlan(k).size(), gemm.planFor(5, n, k));
    }

    @Test
    void rejectsBadShapes() {
        try (DeviceBuffer buf = DeviceBuffer.allocate(1 << 16)) {
            var s = CudaTestSupport.context().stream();
            assertThrows(IllegalArgumentException.class, () -> gemm.run(s, buf.ptr(), 16, buf.ptr(), buf.ptr(), 16,
                    4, 16, 12));
            assertThrows(IllegalArgumentException.class, () -> gemm.run(s, buf.ptr(), 12, buf.ptr(), buf.ptr(), 16,
                    4, 16, 8));
            assertThrows(IllegalArgumentException.class, () -> gemm.run(s, buf.ptr(), 16, buf.ptr(), buf.ptr(), 8,
                    4, 16, 16));
            assertThrows(IllegalArgumentException.class, () -> gemm.run(s, buf.ptr(), 16, buf.ptr(), buf.ptr(), 16,
                    0, 16, 16));
            // k = 14336 has 7 segments: 7, 4, 3 or 2 CTAs can share them (1, 2, 3 or 4 each); 5 is no way
            Gemm.Tile tile = gemm.tiles().get(0);
            IllegalArgumentException uneven = assertThrows(IllegalArgumentException.class, () -> gemm.run(s,
                    buf.ptr(), 14336, buf.ptr(), buf.ptr(), 16, 1, 16, 14336, new Gemm.Plan(tile, 5)));
            assertTrue(uneven.getMessage().contains("splits = 5"), uneven.getMessage());
            // 7 slabs of 4096 x 4096 floats exceed the workspace
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> gemm.run(s,
                    buf.ptr(), 14336, buf.ptr(), buf.ptr(), 4096, 4096, 4096, 14336, new Gemm.Plan(tile, 4)));
            assertTrue(tooBig.getMessage().contains("workspace"), tooBig.getMessage());
        }
    }

    static Stream<Arguments> siluMulShapes() {
        List<Arguments> cases = new ArrayList<>();
        // Llama-3.2-1B's gate_up (inter 8192, k 2048) at decode and prefill batch sizes
        for (int m : new int[] {1, 16, 64, 256, 2048}) {
            cases.add(Arguments.of(m, 8192, 2048, false));
        }
        // odd m, and n = 2 inter of 16, 48, 80 and 400 columns: partial tiles of every width; k = 40 a partial K tile
        for (int inter : new int[] {8, 24, 40, 200}) {
            for (int m : new int[] {1, 3, 17, 77, 130}) {
                cases.add(Arguments.of(m, inter, m % 2 == 0 ? 16 : 40, false));
            }
        }
        // a gate_up bias, added before the activation
        cases.add(Arguments.of(17, 40, 48, true));
        cases.add(Arguments.of(300, 8192, 2048, true));
        return cases.stream();
    }

    /**
     * Every tile (unsplit: k is one segment) writes the bits of the unfused GPU path (GEMM of the checkpoint's row
     * order, bias, kd_silu_and_mul) from the weight {@link GateUpOrder} permutes, and stays near the CPU twin.
     */
    @ParameterizedTest(name = "m={0} inter={1} k={2} bias={3}")
    @MethodSource("siluMulShapes")
    void siluMulMatchesUnfusedBitForBit(int m, int inter, int k, boolean bias) {
        SiluMul p = SiluMul.random(m, inter, k, k, inter, bias, seed(m, 2 * inter, k));
        assertEveryPlanMatchesUnfused(p, k);
        System.out.printf("gemm silu_mul m=%d inter=%d k=%d bias=%b: %d plans bit-identical to the unfused path%n",
                m, inter, k, bias, everyPlan(k).size());
    }

    /** Every plan for {@code k}: the bits of the unfused GPU path, and near the CPU twin. */
    private static void assertEveryPlanMatchesUnfused(SiluMul p, int k) {
        short[] unfused = p.unfusedOnGpu();
        float[] want = p.cpuTwin();
        short[] deviceW = p.permuted();
        for (Gemm.Plan plan : everyPlan(k)) {
            short[] got = p.fusedOnGpu(plan, deviceW);
            assertArrayEquals(unfused, got, plan + " differs from the unfused GEMM + kd_silu_and_mul");
            double err = CudaTestSupport.relError(widen(got), want);
            assertTrue(err < BF16_TOLERANCE, () -> plan + ": rel error " + err + " against the CPU twin");
        }
    }

    /**
     * A K of three segments, on every tile unsplit (running totals in the scratch C) and split (the slabs finished by
     * kd_gemm_reduce_silu_mul); padded A rows and an odd out stride, whose padding stays untouched.
     */
    @Test
    void siluMulOverSeveralSegmentsAndStrides() {
        int m = 70;
        int inter = 40;
        int k = 2 * Gemm.LONG_K_SEGMENT + 40;
        int ldo = inter + 3; // odd: the epilogue must fall back from paired stores
        SiluMul p = SiluMul.random(m, inter, k, k + 24, ldo, true, 29);
        assertEveryPlanMatchesUnfused(p, k);
        System.out.printf("gemm silu_mul m=%d inter=%d k=%d ldo=%d: %d plans bit-identical to the unfused path%n", m,
                inter, k, ldo, everyPlan(k).size());
    }

    @Test
    void siluMulRejectsBadShapes() {
        try (DeviceBuffer buf = DeviceBuffer.allocate(1 << 16)) {
            var s = CudaTestSupport.context().stream();
            // inter not a multiple of GateUpOrder.GROUP
            assertThrows(IllegalArgumentException.class, () -> gemm.runSiluMul(s, buf.ptr(), 16, buf.ptr(), null,
                    null, buf.ptr(), 12, 4, 12, 16));
            // out narrower than inter
            assertThrows(IllegalArgumentException.class, () -> gemm.runSiluMul(s, buf.ptr(), 16, buf.ptr(), null,
                    null, buf.ptr(), 8, 4, 16, 16));
            // a K of four segments without a scratch C
            IllegalArgumentException noScratch = assertThrows(IllegalArgumentException.class, () -> gemm.runSiluMul(s,
                    buf.ptr(), 8192, buf.ptr(), null, null, buf.ptr(), 8, 1, 8, 8192));
            assertTrue(noScratch.getMessage().contains("scratch"), noScratch.getMessage());
        }
    }

    private static long seed(int m, int n, int k) {
        return ((long) m * 1_000_003L + n) * 1_000_033L + k;
    }

    /**
     * The gate_up GEMM and activation of an A {@code [m][k]} (row stride lda) and W {@code [2 inter][k]} in the
     * checkpoint's order, an optional bias; the fused output {@code [m][inter]} has row stride ldo.
     */
    private record SiluMul(Problem problem, int inter, int ldo, float[] bias) {

        static SiluMul random(int m, int inter, int k, int lda, int ldo, boolean bias, long seed) {
            return new SiluMul(Problem.random(m, 2 * inter, k, lda, 2 * inter, seed), inter, ldo,
                    bias ? CudaTestSupport.randomFloats(2 * inter, seed + 1, 4f) : null);
        }

        /** The CPU twin: x W^T, the bias, then Activation.siluAndMultiply, in fp32. */
        float[] cpuTwin() {
            int m = problem.m();
            int n = problem.n();
            float[] c = PackedMatrix.multiplyTransposed(problem.a(), m, problem.w(), n, problem.k(), CPU_THREADS);
            float[] act = new float[m * inter];
            for (int r = 0; r < m; r++) {
                for (int j = 0; bias != null && j < n; j++) {
                    c[r * n + j] += bias[j];
                }
                Activation.siluAndMultiply(c, r * n, act, r * inter, inter);
            }
            return act;
        }

        /** GEMM on the checkpoint's row order, kd_add_bias, kd_silu_and_mul: {@code [m][inter]} bf16 bits. */
        short[] unfusedOnGpu() {
            CudaContext context = CudaTestSupport.context();
            int m = problem.m();
            int n = problem.n();
            try (DeviceBuffer a = upload(problem.aBits());
                 DeviceBuffer w = upload(problem.wBits());
                 DeviceBuffer b = bias == null ? null : DeviceBuffer.allocate(2L * inter * Sizeof.FLOAT)
                         .copyFrom(bias);
                 DeviceBuffer c = DeviceBuffer.allocate((long) m * n * Sizeof.FLOAT).poison();
                 DeviceBuffer out = DeviceBuffer.allocate((long) m * inter * Sizeof.SHORT).poison()) {
                context.synchronizeAll(); // the copies and poison ran on the legacy default stream
                var s = context.stream();
                gemm.run(s, a.ptr(), problem.lda(), w.ptr(), c.ptr(), n, m, n, problem.k());
                if (b != null) {
                    elementwise.addBias(s, c.ptr(), b.ptr(), m, n);
                }
                elementwise.siluAndMul(s, c.ptr(), out.ptr(), m, inter);
                context.synchronize();
                return out.copyTo(new short[m * inter]);
            }
        }

        /**
         * The fused launch on {@code deviceW} ({@link #permuted}): {@code [m][inter]} bf16 bits, after checking
         * that the out stride's padding kept its poison.
         */
        short[] fusedOnGpu(Gemm.Plan plan, short[] deviceW) {
            CudaContext context = CudaTestSupport.context();
            int m = problem.m();
            try (DeviceBuffer a = upload(problem.aBits());
                 DeviceBuffer w = upload(deviceW);
                 DeviceBuffer b = bias == null ? null : DeviceBuffer.allocate(2L * inter * Sizeof.FLOAT)
                         .copyFrom(bias);
                 DeviceBuffer scratch = DeviceBuffer.allocate((long) m * problem.n() * Sizeof.FLOAT).poison();
                 DeviceBuffer out = DeviceBuffer.allocate((long) m * ldo * Sizeof.SHORT).poison()) {
                context.synchronizeAll();
                gemm.runSiluMul(context.stream(), a.ptr(), problem.lda(), w.ptr(), b == null ? null : b.ptr(),
                        scratch.ptr(), out.ptr(), ldo, m, inter, problem.k(), plan);
                context.synchronize();
                short[] strided = out.copyTo(new short[m * ldo]);
                short[] got = new short[m * inter];
                for (int r = 0; r < m; r++) {
                    System.arraycopy(strided, r * ldo, got, r * inter, inter);
                    for (int col = inter; col < ldo; col++) {
                        assertEquals((short) -1, strided[r * ldo + col], plan + ": padding of out row " + r
                                + " was written");
                    }
                }
                return got;
            }
        }

        /** W's bf16 rows in device order, by the code DeviceWeights uploads with. */
        short[] permuted() {
            short[] wBits = problem.wBits();
            ByteBuffer checkpoint = ByteBuffer.allocate(wBits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            checkpoint.asShortBuffer().put(wBits);
            int half = wBits.length; // bytes of the gate rows: half of the 2 bytes per element
            ByteBuffer device = ByteBuffer.allocate(checkpoint.capacity());
            GateUpOrder.forEachGroup(checkpoint.slice(0, half), checkpoint.slice(half, half), problem.k() * 2,
                    device::put);
            short[] bits = new short[wBits.length];
            device.flip().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(bits);
            return bits;
        }

        private static DeviceBuffer upload(short[] bits) {
            return DeviceBuffer.allocate((long) bits.length * Sizeof.SHORT).copyFrom(bits);
        }
    }

    private static float[] widen(short[] bits) {
        float[] values = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            values[i] = Bf16.toFloat(bits[i]);
        }
        return values;
    }

    /** Bf16-rounded random operands (what the GPU sees is what the CPU twin gets) and C's layout. */
    private record Problem(int m, int n, int k, int lda, int ldc, float[] a, float[] w, short[] aBits,
                           short[] wBits) {

        static Problem random(int m, int n, int k, int lda, int ldc, long seed) {
            float[] a = Bf16.round(CudaTestSupport.randomFloats(m * k, seed, 1f));
            float[] w = Bf16.round(CudaTestSupport.randomFloats(n * k, seed ^ 0x5DEECE66DL, 1f));
            short[] aBits = new short[m * lda];
            for (int r = 0; r < m; r++) {
                for (int i = 0; i < k; i++) {
                    aBits[r * lda + i] = Bf16.fromFloat(a[r * k + i]);
                }
            }
            return new Problem(m, n, k, lda, ldc, a, w, aBits, Bf16.fromFloats(w));
        }

        Problem firstRows(int rows) {
            float[] head = new float[rows * k];
            System.arraycopy(a, 0, head, 0, head.length);
            short[] headBits = new short[rows * lda];
            System.arraycopy(aBits, 0, headBits, 0, headBits.length);
            return new Problem(rows, n, k, lda, ldc, head, w, headBits, wBits);
        }

        /** C as {@code [m][n]}; requires ldc == n. */
        float[] runOnGpu(Gemm.Plan plan) {
            assertEquals(n, ldc);
            return runOnGpuStrided(plan);
        }

        /** All of C's {@code m * ldc} elements, unwritten ones still NaN from the poison. */
        float[] runOnGpuStrided(Gemm.Plan plan) {
            CudaContext context = CudaTestSupport.context();
            try (DeviceBuffer da = DeviceBuffer.allocate((long) aBits.length * Sizeof.SHORT).copyFrom(aBits);
                 DeviceBuffer dw = DeviceBuffer.allocate((long) wBits.length * Sizeof.SHORT).copyFrom(wBits);
                 DeviceBuffer dc = DeviceBuffer.allocate((long) m * ldc * Sizeof.FLOAT).poison()) {
                // the copies and the poison ran on the legacy default stream, which the engine's non-blocking
                // stream does not wait for
                context.synchronizeAll();
                gemm.run(context.stream(), da.ptr(), lda, dw.ptr(), dc.ptr(), ldc, m, n, k, plan);
                context.synchronize();
                return dc.copyTo(new float[m * ldc]);
            }
        }
    }
}
