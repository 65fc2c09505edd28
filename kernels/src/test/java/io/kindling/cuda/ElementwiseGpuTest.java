package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kindling.backend.cpu.Activation;
import io.kindling.backend.cpu.ModelWeights;
import io.kindling.backend.cpu.RmsNorm;
import io.kindling.backend.cpu.RotaryEmbedding;
import io.kindling.model.Rope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each elementwise kernel against its CPU twin on fresh random inputs, with outputs poisoned (NaN) first: fp32
 * results equal the twin's (rope: relative error below 1e-5), bf16 results lie within one bf16 ulp of the twin's
 * fp32 value rounded. Sizes of the tiny fixtures (hidden 16, head_dim 4 and 8, which take the scalar paths) and of
 * real models (hidden 2048/4096, head_dim 64/128, 32 heads over 8 kv heads), n = 1, 7 and 512 tokens.
 */
class ElementwiseGpuTest {

    private static final int[] TOKENS = {1, 7, 512};
    /** 20 is not a multiple of 8: the scalar path. */
    private static final int[] HIDDEN = {16, 20, 2048, 4096};
    private static final float EPS = 1e-5f;
    private static final AtomicLong SEEDS = new AtomicLong(4_000);

    private static CudaContext context;
    private static Elementwise kernels;

    @BeforeAll
    static void load() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
        context = CudaTestSupport.context();
        kernels = Elementwise.load();
    }

    static Stream<Arguments> hiddenByTokens() {
        return Arrays.stream(HIDDEN).boxed().flatMap(h -> Arrays.stream(TOKENS).mapToObj(n -> Arguments.of(h, n)));
    }

    @ParameterizedTest(name = "h={0} n={1}")
    @MethodSource("hiddenByTokens")
    void embeddingGathersRows(int h, int n) {
        long seed = SEEDS.incrementAndGet();
        int vocab = 1000;
        float[] table = Bf16.round(CudaTestSupport.randomFloats(vocab * h, seed, 1f));
        int[] ids = randomInts(n, vocab, seed + 1);
        float[] want = new float[n * h];
        for (int t = 0; t < n; t++) {
            ModelWeights.embedRow(table, h, ids[t], want, t * h);
        }
        float[] got = new float[n * h];
        try (DeviceBuffer dIds = upload(ids); DeviceBuffer dTable = upload(Bf16.fromFloats(table));
             DeviceBuffer dX = DeviceBuffer.allocate(4L * n * h).poison()) {
            run(s -> kernels.embedding(s, dIds.ptr(), n, dTable.ptr(), dX.ptr(), h));
            dX.copyTo(got);
        }
        report("embedding h=%d n=%d: rel error %.2e", h, n, CudaTestSupport.relError(got, want));
        assertArrayEquals(want, got, "widening bf16 to fp32 is exact");
    }

    static Stream<Arguments> hiddenByTokensByDelta() {
        return hiddenByTokens()
                .flatMap(a -> Stream.of(true, false).map(d -> Arguments.of(a.get()[0], a.get()[1], d)));
    }

    @ParameterizedTest(name = "h={0} n={1} delta={2}")
    @MethodSource("hiddenByTokensByDelta")
    void addRmsNormAddsResidualThenNorms(int h, int n, boolean withDelta) {
        long seed = SEEDS.incrementAndGet();
        float[] x = CudaTestSupport.randomFloats(n * h, seed, 4f);
        float[] delta = withDelta ? CudaTestSupport.randomFloats(n * h, seed + 1, 1f) : null;
        float[] weight = Bf16.round(CudaTestSupport.randomFloats(h, seed + 2, 2f));
        float[] wantX = x.clone();
        if (withDelta) {
            for (int i = 0; i < wantX.length; i++) {
                wantX[i] += delta[i];
            }
        }
        float[] want = new float[n * h];
        for (int t = 0; t < n; t++) {
            RmsNorm.apply(wantX, t * h, weight, EPS, want, t * h);
        }
        float[] gotX = new float[n * h];
        short[] got = new short[n * h];
        try (DeviceBuffer dX = upload(x); DeviceBuffer dDelta = withDelta ? upload(delta) : null;
             DeviceBuffer dW = upload(Bf16.fromFloats(weight));
             DeviceBuffer dOut = DeviceBuffer.allocate(2L * n * h).poison()) {
            run(s -> kernels.addRmsNorm(s, dX.ptr(), withDelta ? dDelta.ptr() : null, dW.ptr(), EPS, dOut.ptr(), n,
                    h));
            dX.copyTo(gotX);
            dOut.copyTo(got);
        }
        UlpCheck check = UlpCheck.of(got, want);
        report("addRmsNorm h=%d n=%d delta=%b: x rel error %.2e, out %s", h, n, withDelta,
                CudaTestSupport.relError(gotX, wantX), check);
        assertArrayEquals(wantX, gotX, "x += delta is one fp32 addition");
        check.assertWithinOneUlp();
    }

    @ParameterizedTest(name = "h={0} n={1} delta={2}")
    @MethodSource("hiddenByTokensByDelta")
    void rmsNormRowsNormsOnlyTheSelectedRows(int h, int n, boolean withDelta) {
        long seed = SEEDS.incrementAndGet();
        float[] x = CudaTestSupport.randomFloats(n * h, seed, 4f);
        float[] delta = withDelta ? CudaTestSupport.randomFloats(n * h, seed + 1, 1f) : null;
        float[] weight = Bf16.round(CudaTestSupport.randomFloats(h, seed + 2, 2f));
        // the last token always, others at random (a repeat is allowed: x is only read)
        int[] rows = randomInts(n == 1 ? 1 : 5, n, seed + 3);
        rows[rows.length - 1] = n - 1;
        int m = rows.length;
        float[] source = x.clone();
        if (withDelta) {
            for (int i = 0; i < source.length; i++) {
                source[i] += delta[i];
            }
        }
        float[] want = new float[m * h];
        for (int j = 0; j < m; j++) {
            RmsNorm.apply(source, rows[j] * h, weight, EPS, want, j * h);
        }
        float[] gotX = new float[n * h];
        short[] got = new short[m * h];
        try (DeviceBuffer dX = upload(x); DeviceBuffer dDelta = withDelta ? upload(delta) : null;
             DeviceBuffer dRows = upload(rows); DeviceBuffer dW = upload(Bf16.fromFloats(weight));
             DeviceBuffer dOut = DeviceBuffer.allocate(2L * m * h).poison()) {
            if (withDelta) {
                run(s -> kernels.rmsNormRows(s, dX.ptr(), dDelta.ptr(), dRows.ptr(), m, dW.ptr(), EPS, dOut.ptr(),
                        h));
            } else {
                run(s -> kernels.rmsNormRows(s, dX.ptr(), dRows.ptr(), m, dW.ptr(), EPS, dOut.ptr(), h));
            }
            dX.copyTo(gotX);
            dOut.copyTo(got);
        }
        UlpCheck check = UlpCheck.of(got, want);
        report("rmsNormRows h=%d n=%d m=%d delta=%b: out %s", h, n, m, withDelta, check);
        assertArrayEquals(x, gotX, "x is only read");
        check.assertWithinOneUlp();
    }

    static Stream<Arguments> biasWidths() {
        // tiny fixtures' q+k+v widths (24, 32, 48, 64), 30 (not a multiple of 4: the scalar path), Qwen2-0.5B,
        // Llama-3.2-1B and Llama-3.1-8B
        return Stream.of(24, 30, 32, 48, 64, 1152, 3072, 6144)
                .flatMap(w -> Arrays.stream(TOKENS).mapToObj(n -> Arguments.of(w, n)));
    }

    @ParameterizedTest(name = "width={0} n={1}")
    @MethodSource("biasWidths")
    void addBiasAddsPerColumn(int width, int n) {
        long seed = SEEDS.incrementAndGet();
        float[] qkv = CudaTestSupport.randomFloats(n * width, seed, 4f);
        float[] bias = CudaTestSupport.randomFloats(width, seed + 1, 1f);
        float[] want = new float[n * width];
        for (int i = 0; i < want.length; i++) {
            want[i] = qkv[i] + bias[i % width];
        }
        float[] got = new float[n * width];
        try (DeviceBuffer dQkv = upload(qkv); DeviceBuffer dBias = upload(bias)) {
            run(s -> kernels.addBias(s, dQkv.ptr(), dBias.ptr(), n, width));
            dQkv.copyTo(got);
        }
        report("addBias width=%d n=%d: rel error %.2e", width, n, CudaTestSupport.relError(got, want));
        assertArrayEquals(want, got, "one fp32 addition per element");
    }

    /** (heads, kv heads, head_dim): tiny fixtures, head_dim 24 (12 pairs), Llama-3.2-1B, Llama-3.1-8B, head_dim 256. */
    private static final int[][] ROPE_SHAPES = {{4, 4, 4}, {4, 1, 4}, {4, 2, 8}, {4, 2, 24}, {32, 8, 64},
        {32, 8, 128}, {8, 2, 256}};
    private static final Rope PLAIN = Rope.standard(10000);
    private static final Rope LLAMA3 = new Rope(500000, "llama3", 32, 1, 4, 8192);

    static Stream<Arguments> ropeCases() {
        List<Arguments> cases = new ArrayList<>();
        for (int[] shape : ROPE_SHAPES) {
            for (int n : TOKENS) {
                for (Rope rope : List.of(PLAIN, LLAMA3)) {
                    for (boolean qkNorm : new boolean[] {false, true}) {
                        cases.add(Arguments.of(shape[0], shape[1], shape[2], n, rope, qkNorm));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "heads={0}/{1} headDim={2} n={3} {4} qkNorm={5}")
    @MethodSource("ropeCases")
    void rotaryRotatesQueriesAndKeys(int heads, int kvHeads, int headDim, int n, Rope rope, boolean qkNorm) {
        long seed = SEEDS.incrementAndGet();
        int qSize = heads * headDim;
        int kvSize = kvHeads * headDim;
        int stride = qSize + 2 * kvSize;
        float[] qkv = CudaTestSupport.randomFloats(n * stride, seed, 2f);
        // positions up to 131071, where the angle reaches 131071 rad and sincosf needs its slow range reduction
        int[] positions = randomInts(n, 131072, seed + 1);
        positions[n - 1] = 131071;
        float[] invFreq = rope.inverseFrequencies(headDim);
        float[] qNorm = qkNorm ? Bf16.round(CudaTestSupport.randomFloats(headDim, seed + 2, 2f)) : null;
        float[] kNorm = qkNorm ? Bf16.round(CudaTestSupport.randomFloats(headDim, seed + 3, 2f)) : null;

        // the CPU backend's order (CpuBackend.positionQueryKey): per-head norms, then RoPE on q and k
        float[] want = qkv.clone();
        RotaryEmbedding twin = new RotaryEmbedding(invFreq);
        RotaryEmbedding.Table table = twin.table(positions, positions.length);
        for (int t = 0; t < n; t++) {
            int row = t * stride;
            if (qkNorm) {
                for (int h = 0; h < heads; h++) {
                    RmsNorm.apply(want, row + h * headDim, qNorm, EPS, want, row + h * headDim);
                }
                for (int h = 0; h < kvHeads; h++) {
                    RmsNorm.apply(want, row + qSize + h * headDim, kNorm, EPS, want, row + qSize + h * headDim);
                }
            }
            twin.apply(table, t, want, row, heads);
            twin.apply(table, t, want, row + qSize, kvHeads);
        }

        float[] got = new float[n * stride];
        try (DeviceBuffer dQkv = upload(qkv); DeviceBuffer dPos = upload(positions);
             DeviceBuffer dInv = upload(invFreq);
             DeviceBuffer dQn = qkNorm ? upload(Bf16.fromFloats(qNorm)) : null;
             DeviceBuffer dKn = qkNorm ? upload(Bf16.fromFloats(kNorm)) : null) {
            run(s -> kernels.rotary(s, dQkv.ptr(), stride, dPos.ptr(), n, dInv.ptr(),
                    qkNorm ? dQn.ptr() : null, qkNorm ? dKn.ptr() : null, EPS, heads, kvHeads, headDim));
            dQkv.copyTo(got);
        }
        for (int t = 0; t < n; t++) {
            int v = t * stride + qSize + kvSize;
            assertArrayEquals(Arrays.copyOfRange(qkv, v, v + kvSize), Arrays.copyOfRange(got, v, v + kvSize),
                    "v of token " + t + " is left alone");
            // v out of the error measure below, which is about q and k
            Arrays.fill(got, v, v + kvSize, 0f);
            Arrays.fill(want, v, v + kvSize, 0f);
        }
        double rel = CudaTestSupport.relError(got, want);
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs((double) got[i] - want[i]));
        }
        report("rotary heads=%d/%d headDim=%d n=%d %s qkNorm=%b: q/k rel error %.2e, max abs diff %.2e", heads,
                kvHeads, headDim, n, rope.type(), qkNorm, rel, worst);
        assertTrue(rel < 1e-5, "relative error " + rel);
    }

    static Stream<Arguments> interByTokens() {
        // tiny fixtures (40, 48), 36 (not a multiple of 8: the scalar path), Llama-3.2-1B, Llama-3.1-8B
        return Stream.of(40, 48, 36, 8192, 14336)
                .flatMap(i -> Arrays.stream(TOKENS).mapToObj(n -> Arguments.of(i, n)));
    }

    @ParameterizedTest(name = "inter={0} n={1}")
    @MethodSource("interByTokens")
    void siluAndMulGatesUp(int inter, int n) {
        long seed = SEEDS.incrementAndGet();
        float[] gateUp = CudaTestSupport.randomFloats(n * 2 * inter, seed, 8f);
        float[] want = new float[n * inter];
        for (int t = 0; t < n; t++) {
            Activation.siluAndMultiply(gateUp, t * 2 * inter, want, t * inter, inter);
        }
        short[] got = new short[n * inter];
        try (DeviceBuffer dIn = upload(gateUp);
             DeviceBuffer dOut = DeviceBuffer.allocate(2L * n * inter).poison()) {
            run(s -> kernels.siluAndMul(s, dIn.ptr(), dOut.ptr(), n, inter));
            dOut.copyTo(got);
        }
        UlpCheck check = UlpCheck.of(got, want);
        report("siluAndMul inter=%d n=%d: out %s", inter, n, check);
        check.assertWithinOneUlp();
    }

    static Stream<Arguments> conversions() {
        // an offset of one element misaligns both pointers: the scalar path
        return Stream.of(1, 13, 64, 1_000_003).flatMap(c -> Stream.of(Arguments.of(c, 0), Arguments.of(c, 1)));
    }

    @ParameterizedTest(name = "count={0} offset={1}")
    @MethodSource("conversions")
    void toBf16RoundsToNearestEven(int count, int offset) {
        long seed = SEEDS.incrementAndGet();
        float[] src = wideRangeFloats(count, seed);
        short[] want = Bf16.fromFloats(src);
        short[] got = new short[count];
        float[] padded = new float[offset + count];
        System.arraycopy(src, 0, padded, offset, count);
        try (DeviceBuffer dSrc = upload(padded);
             DeviceBuffer dDst = DeviceBuffer.allocate(2L * (offset + count)).poison()) {
            run(s -> kernels.toBf16(s, dSrc.at(4L * offset), dDst.at(2L * offset), count));
            short[] all = dDst.copyTo(new short[offset + count]);
            System.arraycopy(all, offset, got, 0, count);
        }
        int differ = 0;
        for (int i = 0; i < count; i++) {
            differ += got[i] != want[i] ? 1 : 0;
        }
        report("toBf16 count=%d offset=%d: %d of %d differ from Bf16.fromFloat", count, offset, differ, count);
        assertArrayEquals(want, got);
    }

    /** Uploads and poisoning run on the legacy stream, unordered with the engine's non-blocking one: wait for them. */
    private static void run(Consumer<CUstream> launch) {
        context.synchronizeAll();
        launch.accept(context.stream());
        context.synchronize();
    }

    private static DeviceBuffer upload(float[] values) {
        return DeviceBuffer.allocate(4L * values.length).copyFrom(values);
    }

    private static DeviceBuffer upload(int[] values) {
        return DeviceBuffer.allocate(4L * values.length).copyFrom(values);
    }

    private static DeviceBuffer upload(short[] values) {
        return DeviceBuffer.allocate(2L * values.length).copyFrom(values);
    }

    private static int[] randomInts(int n, int bound, long seed) {
        return new SplittableRandom(seed).ints(n, 0, bound).toArray();
    }

    /** Magnitudes from subnormal to overflowing bf16, both signs, plus zeros, infinities and rounding ties. */
    private static float[] wideRangeFloats(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] special = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
            Float.MIN_VALUE, 1.00390625f, 1.01171875f, -1.00390625f};
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = random.nextInt(16) == 0
                    ? special[random.nextInt(special.length)]
                    : Math.scalb((float) (random.nextDouble() * 2 - 1), random.nextInt(-149, 128));
        }
        return values;
    }

    private static void report(String format, Object... args) {
        System.out.println("ElementwiseGpuTest " + String.format(format, args));
    }

    /** bf16 results against the twin's fp32 values rounded to bf16, in ulps (bf16 bit patterns in order). */
    private record UlpCheck(int worst, int offByOne, int total, int firstBad, float gotBad, float wantBad) {

        static UlpCheck of(short[] got, float[] want) {
            int worst = 0;
            int offByOne = 0;
            int firstBad = -1;
            for (int i = 0; i < got.length; i++) {
                int distance = Float.isNaN(Bf16.toFloat(got[i]))
                        ? Integer.MAX_VALUE
                        : Math.abs(ordered(got[i]) - ordered(Bf16.fromFloat(want[i])));
                offByOne += distance == 1 ? 1 : 0;
                if (distance > 1 && firstBad < 0) {
                    firstBad = i;
                }
                worst = Math.max(worst, distance);
            }
            return new UlpCheck(worst, offByOne, got.length, firstBad,
                    firstBad < 0 ? 0 : Bf16.toFloat(got[firstBad]), firstBad < 0 ? 0 : want[firstBad]);
        }

        /** Sign and magnitude to a line on which neighbouring bf16 values differ by one (+0 and -0 coincide). */
        private static int ordered(short bits) {
            int magnitude = bits & 0x7fff;
            return (bits & 0x8000) != 0 ? -magnitude : magnitude;
        }

        void assertWithinOneUlp() {
            assertTrue(worst <= 1, () -> "element " + firstBad + " is " + gotBad + ", want " + wantBad
                    + " rounded to bf16; " + this);
        }

        @Override
        public String toString() {
            return "max " + (worst == Integer.MAX_VALUE ? "NaN" : worst + " ulp") + ", " + offByOne + " of " + total
                    + " one ulp off";
        }
    }
}
