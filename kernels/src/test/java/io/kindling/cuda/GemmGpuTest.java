package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.backend.cpu.PackedMatrix;
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

/** The bf16 GEMM against the CPU backend's float32 {@code x W^T} on the same bf16-rounded inputs. */
class GemmGpuTest {

    // chunked fp32 accumulation of exact bf16 products: ~5e-7 relative by gemm.cu's error model at k = 14336
    private static final double TOLERANCE = 1e-5;
    private static final int CPU_THREADS = Runtime.getRuntime().availableProcessors();

    private static Gemm gemm;

    @BeforeAll
    static void load() {
        Assumptions.assumeTrue(CudaTestSupport.available(), () -> "no GPU: " + CudaTestSupport.whyUnavailable());
        gemm = new Gemm(KernelModule.load("gemm"), Gemm.WORKSPACE_BYTES);
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
        int k = 2 * Gemm.SEGMENT_K + 40;
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
            // k = 14336 has 4 segments: 2 CTAs take 2 each, 4 take 1; 3 is no way to share them
            Gemm.Tile tile = gemm.tiles().get(0);
            IllegalArgumentException uneven = assertThrows(IllegalArgumentException.class, () -> gemm.run(s,
                    buf.ptr(), 14336, buf.ptr(), buf.ptr(), 16, 1, 16, 14336, new Gemm.Plan(tile, 3)));
            assertTrue(uneven.getMessage().contains("splits = 3"), uneven.getMessage());
            // 4 slabs of 4096 x 4096 floats exceed the workspace
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> gemm.run(s,
                    buf.ptr(), 14336, buf.ptr(), buf.ptr(), 4096, 4096, 4096, 14336, new Gemm.Plan(tile, 4)));
            assertTrue(tooBig.getMessage().contains("workspace"), tooBig.getMessage());
        }
    }

    private static long seed(int m, int n, int k) {
        return ((long) m * 1_000_003L + n) * 1_000_033L + k;
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
