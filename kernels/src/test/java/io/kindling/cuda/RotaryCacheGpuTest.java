package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kindling.model.Rope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine's fused RoPE + K/V cache write ({@code kd_rotary_cache}) against the two kernels it replaces,
 * {@code kd_rotary} then {@code kd_reshape_and_cache}, on the same fresh random inputs: the q columns, v columns and
 * row padding of qkv and both cache planes (poisoned first, so a slot either path misses shows) are equal bit for
 * bit; the k columns of the fused path's row are not compared, as nothing reads them. Shapes of the tiny fixtures
 * (head_dim 4 and 8: the scalar path; 24), GQA, MQA and MHA at head_dim 64 and 128, and head_dim 256; plain and
 * llama3 RoPE, with and without Qwen3's q/k norm; some tokens are padding (slot -1); a row stride of width + 2 takes
 * the narrower vector paths.
 */
class RotaryCacheGpuTest {

    /** (heads, kv heads, head_dim). */
    private static final int[][] SHAPES = {{4, 4, 4}, {4, 1, 4}, {4, 2, 8}, {4, 2, 24}, {32, 8, 64}, {32, 8, 128},
        {8, 8, 64}, {8, 1, 128}, {16, 16, 128}, {8, 2, 256}};
    private static final int[] TOKENS = {1, 7, 300};
    private static final Rope PLAIN = Rope.standard(10000);
    private static final Rope LLAMA3 = new Rope(500000, "llama3", 32, 1, 4, 8192);
    private static final float EPS = 1e-6f;
    /** The bf16 pattern of a poisoned (0xFF-filled) cache: a NaN, which no finite input rounds to. */
    private static final short POISON = (short) 0xFFFF;
    private static final long SEED = System.nanoTime();

    private static CudaContext context;
    private static Elementwise elementwise;
    private static KvCacheKernels kvKernels;

    @BeforeAll
    static void load() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
        context = CudaTestSupport.context();
        elementwise = Elementwise.load();
        kvKernels = new KvCacheKernels(KernelModule.load("kv_cache"));
        System.out.println("RotaryCacheGpuTest seed " + SEED);
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (int[] shape : SHAPES) {
            for (int n : TOKENS) {
                for (Rope rope : List.of(PLAIN, LLAMA3)) {
                    for (boolean qkNorm : new boolean[] {false, true}) {
                        // the padded stride on the middle token count only: it changes the vector width, not the rest
                        int pad = n == 7 ? 2 : 0;
                        cases.add(Arguments.of(shape[0], shape[1], shape[2], n, rope, qkNorm, pad));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "heads={0}/{1} headDim={2} n={3} {4} qkNorm={5} pad={6}")
    @MethodSource("cases")
    void fusedEqualsRotaryThenReshapeAndCache(int heads, int kvHeads, int headDim, int n, Rope rope, boolean qkNorm,
                                              int pad) {
        SplittableRandom random = new SplittableRandom(SEED + 1_000_003L * headDim + 1009L * n + 31L * heads + kvHeads
                + (qkNorm ? 7 : 0) + (rope == LLAMA3 ? 13 : 0));
        int blockSize = 16;
        int qSize = heads * headDim;
        int kvSize = kvHeads * headDim;
        int stride = qSize + 2 * kvSize + pad;
        float[] qkv = CudaTestSupport.randomFloats(n * stride, random.nextLong(), 2f);
        // positions up to 131071, where sincosf needs its slow range reduction
        int[] positions = random.ints(n, 0, 131072).toArray();
        positions[n - 1] = 131071;
        int numBlocks = (n + blockSize - 1) / blockSize + 3;
        int[] slots = random.ints(0, numBlocks * blockSize).distinct().limit(n).toArray();
        int padding = n / 5;
        for (int i = 0; i < padding; i++) {
            slots[i * 5 + 1] = -1;
        }
        float[] invFreq = rope.inverseFrequencies(headDim);
        short[] qNorm = qkNorm ? Bf16.fromFloats(CudaTestSupport.randomFloats(headDim, random.nextLong(), 2f)) : null;
        short[] kNorm = qkNorm ? Bf16.fromFloats(CudaTestSupport.randomFloats(headDim, random.nextLong(), 2f)) : null;
        int cacheElems = numBlocks * kvSize * blockSize;

        Result want;
        Result got;
        try (DeviceBuffer dPos = upload(positions); DeviceBuffer dSlots = upload(slots);
             DeviceBuffer dInv = DeviceBuffer.allocate(4L * invFreq.length).copyFrom(invFreq);
             DeviceBuffer dQn = qkNorm ? upload(qNorm) : null;
             DeviceBuffer dKn = qkNorm ? upload(kNorm) : null) {
            want = run(qkv, cacheElems, (s, dQkv, dK, dV) -> {
                elementwise.rotary(s, dQkv.ptr(), stride, dPos.ptr(), n, dInv.ptr(), qkNorm ? dQn.ptr() : null,
                        qkNorm ? dKn.ptr() : null, EPS, heads, kvHeads, headDim);
                kvKernels.reshapeAndCache(s, dQkv.ptr(), stride, qSize, qSize + kvSize, dSlots.ptr(), n, dK.ptr(),
                        dV.ptr(), kvHeads, blockSize, headDim);
            });
            got = run(qkv, cacheElems, (s, dQkv, dK, dV) -> elementwise.rotaryCache(s, dQkv.ptr(), stride, dPos.ptr(),
                    dSlots.ptr(), n, dInv.ptr(), qkNorm ? dQn.ptr() : null, qkNorm ? dKn.ptr() : null, EPS, heads,
                    kvHeads, headDim, dK.ptr(), dV.ptr(), blockSize));
        }

        int written = (n - padding) * kvSize;
        boolean same = Arrays.equals(want.k, got.k) && Arrays.equals(want.v, got.v);
        for (int t = 0; t < n; t++) {
            int row = t * stride;
            same &= Arrays.equals(want.qkv, row, row + qSize, got.qkv, row, row + qSize);
            same &= Arrays.equals(want.qkv, row + qSize + kvSize, row + stride, got.qkv, row + qSize + kvSize,
                    row + stride);
        }
        System.out.printf("RotaryCacheGpuTest heads=%d/%d headDim=%d n=%d (%d padding) %s qkNorm=%b pad=%d: %s%n",
                heads, kvHeads, headDim, n, padding, rope.type(), qkNorm, pad, same ? "exact" : "MISMATCH");
        for (int t = 0; t < n; t++) {
            int row = t * stride;
            assertArrayEquals(Arrays.copyOfRange(want.qkv, row, row + qSize),
                    Arrays.copyOfRange(got.qkv, row, row + qSize), "q of token " + t);
            assertArrayEquals(Arrays.copyOfRange(want.qkv, row + qSize + kvSize, row + stride),
                    Arrays.copyOfRange(got.qkv, row + qSize + kvSize, row + stride), "v and padding of token " + t);
        }
        assertArrayEquals(want.k, got.k, "K cache");
        assertArrayEquals(want.v, got.v, "V cache");
        // both paths wrote every real token's slot (equal poison in both would hide a slot missed by both)
        assertEquals(written, cacheElems - count(got.k, POISON), "K elements written");
        assertEquals(written, cacheElems - count(got.v, POISON), "V elements written");
    }

    private interface Step {
        void launch(CUstream s, DeviceBuffer qkv, DeviceBuffer kCache, DeviceBuffer vCache);
    }

    private record Result(float[] qkv, short[] k, short[] v) {
    }

    /** Runs {@code step} on a fresh copy of {@code qkv} and poisoned K/V planes; what it left in them. */
    private static Result run(float[] qkv, int cacheElems, Step step) {
        try (DeviceBuffer dQkv = DeviceBuffer.allocate(4L * qkv.length).copyFrom(qkv);
             DeviceBuffer dK = DeviceBuffer.allocate(2L * cacheElems).poison();
             DeviceBuffer dV = DeviceBuffer.allocate(2L * cacheElems).poison()) {
            // uploads and poisoning run on the legacy stream, unordered with the engine's non-blocking one
            context.synchronizeAll();
            step.launch(context.stream(), dQkv, dK, dV);
            context.synchronize();
            return new Result(dQkv.copyTo(new float[qkv.length]), dK.copyTo(new short[cacheElems]),
                    dV.copyTo(new short[cacheElems]));
        }
    }

    private static int count(short[] values, short value) {
        int c = 0;
        for (short v : values) {
            c += v == value ? 1 : 0;
        }
        return c;
    }

    private static DeviceBuffer upload(int[] values) {
        return DeviceBuffer.allocate(4L * values.length).copyFrom(values);
    }

    private static DeviceBuffer upload(short[] values) {
        return DeviceBuffer.allocate(2L * values.length).copyFrom(values);
    }
}
