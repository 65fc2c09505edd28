package io.kindling.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * Launchers of the row-wise and elementwise kernels around the GEMMs and attention: embedding gather, residual add
 * fused with RMSNorm, bias, RoPE (with Qwen3's q/k norm; fused with the K/V cache write in the engine),
 * SiLU-and-multiply (fused into the gate_up GEMM in the engine) and fp32 to bf16 conversion. Each kernel has its
 * own {@code .cu} file; each launch goes on the given stream without synchronizing.
 *
 * <p>Block sizes depend only on the row width, never on the number of rows, so a row's reductions run in the same
 * order whatever else shares the batch.
 */
final class Elementwise {

    private static final int MAX_HEAD_DIM = 256;
    /** Grid-stride kernels stop adding blocks here: enough to fill any current GPU several times over. */
    private static final int MAX_FLAT_BLOCKS = 4096;
    private static final int FLAT_THREADS = 256;
    /** Warps per token of the rotary kernels (fewer where the token has fewer heads); any count gives the same bits. */
    static final int ROTARY_WARPS = 8;
    /** Up to this many tokens, the fused rotary + K/V write runs more warps per token ({@link #rotaryCacheWarps}). */
    private static final int ROTARY_CACHE_FEW_TOKENS = 512;

    private final CUfunction embedding;
    private final CUfunction addRmsNorm;
    private final CUfunction rmsNormRows;
    private final CUfunction addBias;
    private final CUfunction rotary;
    private final CUfunction rotaryCache;
    private final CUfunction siluAndMul;
    private final CUfunction toBf16;

    private Elementwise(KernelModule embedding, KernelModule rmsNorm, KernelModule bias, KernelModule rotary,
                        KernelModule activation, KernelModule convert) {
        this.embedding = embedding.function("kd_embedding");
        this.addRmsNorm = rmsNorm.function("kd_add_rms_norm");
        this.rmsNormRows = rmsNorm.function("kd_rms_norm_rows");
        this.addBias = bias.function("kd_add_bias");
        this.rotary = rotary.function("kd_rotary");
        this.rotaryCache = rotary.function("kd_rotary_cache");
        this.siluAndMul = activation.function("kd_silu_and_mul");
        this.toBf16 = convert.function("kd_to_bf16");
    }

    /** Loads the six kernel files into the current context. */
    static Elementwise load() {
        return new Elementwise(KernelModule.load("embedding"), KernelModule.load("rms_norm"),
                KernelModule.load("bias"), KernelModule.load("rotary"), KernelModule.load("activation"),
                KernelModule.load("convert"));
    }

    /**
     * {@code x[t] = float(table[ids[t]])}: ids int32 {@code [n]} (already checked against the vocabulary), table
     * bf16 {@code [vocab][h]}, x fp32 {@code [n][h]}.
     */
    void embedding(CUstream s, CUdeviceptr ids, int n, CUdeviceptr table, CUdeviceptr x, int h) {
        positive("n", n);
        positive("h", h);
        Launch.kernel(embedding, s, n, 1, 1, rowThreads(h, 8, 256), 0, ids, table, x, h);
    }

    /**
     * Residual add and RMSNorm, per token: {@code x += delta; out = bf16(weight * (x * rsqrt(mean(x^2) + eps)))}.
     *
     * @param x fp32 {@code [n][h]}, updated in place when {@code delta} is given
     * @param delta fp32 {@code [n][h]}, or null for the first layer (no residual add)
     * @param weight bf16 {@code [h]}
     * @param out bf16 {@code [n][h]}
     */
    void addRmsNorm(CUstream s, CUdeviceptr x, CUdeviceptr delta, CUdeviceptr weight, float eps, CUdeviceptr out,
                    int n, int h) {
        positive("n", n);
        positive("h", h);
        Launch.kernel(addRmsNorm, s, n, 1, 1, rowThreads(h, 8, 512), 0, x, orNull(delta), weight, eps, out, h);
    }

    /** The final norm on the rows that need logits: {@code out[j] = norm(x[rows[j]])}; see the overload with delta. */
    void rmsNormRows(CUstream s, CUdeviceptr x, CUdeviceptr rows, int m, CUdeviceptr weight, float eps,
                     CUdeviceptr out, int h) {
        rmsNormRows(s, x, null, rows, m, weight, eps, out, h);
    }

    /**
     * The final norm on the rows that need logits, with the last layer's residual add folded in:
     * {@code out[j] = bf16(norm(x[rows[j]] + delta[rows[j]]))}. {@code x} is only read (its rows stay without
     * {@code delta}), so a row may be named twice.
     *
     * @param delta fp32 {@code [n][h]} (the last layer's MLP output), or null to norm {@code x} as it is
     * @param rows int32 {@code [m]} token indices
     * @param out bf16 {@code [m][h]}
     */
    void rmsNormRows(CUstream s, CUdeviceptr x, CUdeviceptr delta, CUdeviceptr rows, int m, CUdeviceptr weight,
                     float eps, CUdeviceptr out, int h) {
        positive("m", m);
        positive("h", h);
        Launch.kernel(rmsNormRows, s, m, 1, 1, rowThreads(h, 8, 512), 0, x, orNull(delta), rows, weight, eps, out,
                h);
    }

    /** {@code qkv[t][j] += bias[j]}: qkv fp32 {@code [n][width]}, bias fp32 {@code [width]}. */
    void addBias(CUstream s, CUdeviceptr qkv, CUdeviceptr bias, int n, int width) {
        positive("n", n);
        positive("width", width);
        Launch.kernel(addBias, s, n, 1, 1, rowThreads(width, 4, 256), 0, qkv, bias, width);
    }

    /**
     * RoPE on the q and k heads of each token's qkv row, in place, after Qwen3's per-head RMSNorm of q and k when
     * {@code qNorm}/{@code kNorm} are given.
     *
     * @param qkv fp32 {@code [n][qkvStride]}: q heads, then k heads, then v heads (untouched)
     * @param positions int32 {@code [n]}
     * @param invFreq fp32 {@code [headDim / 2]}: {@code config.rope().inverseFrequencies(headDim)}
     * @param qNorm bf16 {@code [headDim]} or null
     * @param kNorm bf16 {@code [headDim]} or null
     */
    void rotary(CUstream s, CUdeviceptr qkv, int qkvStride, CUdeviceptr positions, int n, CUdeviceptr invFreq,
                CUdeviceptr qNorm, CUdeviceptr kNorm, float eps, int numHeads, int numKvHeads, int headDim) {
        checkRotary(n, qkvStride, numHeads, numKvHeads, headDim);
        int warps = Math.min(ROTARY_WARPS, numHeads + numKvHeads);
        Launch.kernel(rotary, s, n, 1, 1, 32 * warps, 0, qkv, qkvStride, positions, invFreq, orNull(qNorm),
                orNull(kNorm), eps, numHeads, numKvHeads, headDim);
    }

    /**
     * {@link #rotary} and then {@link KvCacheKernels#reshapeAndCache} in one kernel, bit for bit: q is rotated in
     * place, the rotated k and the v of each token go to the paged cache as bf16 at its slot (-1: skipped), and the
     * row's k is left as it was (attention reads this step's keys from the cache, never from the row).
     *
     * @param qkv fp32 {@code [n][qkvStride]}: q heads, then k heads, then v heads
     * @param slotMapping int32 {@code [n]}: slot {@code block * blockSize + offset}, or -1
     * @param kCache bf16 {@code [numBlocks][numKvHeads][blockSize][headDim]}, this layer's K plane
     * @param vCache the same for V
     * @see #rotary for the other parameters
     */
    void rotaryCache(CUstream s, CUdeviceptr qkv, int qkvStride, CUdeviceptr positions, CUdeviceptr slotMapping,
                     int n, CUdeviceptr invFreq, CUdeviceptr qNorm, CUdeviceptr kNorm, float eps, int numHeads,
                     int numKvHeads, int headDim, CUdeviceptr kCache, CUdeviceptr vCache, int blockSize) {
        rotaryCache(s, qkv, qkvStride, positions, slotMapping, n, invFreq, qNorm, kNorm, eps, numHeads, numKvHeads,
                headDim, kCache, vCache, blockSize, rotaryCacheWarps(n));
    }

    /**
     * The fused kernel's warps per token: 16 for decode-sized steps, whose few CTAs each should finish fast, 4 for
     * prefill, where many small CTAs fill the GPU better. On an H100 (RotaryCacheBench, 2026-12-06) 16 warps beat 8
     * by 2-20% at 1 and 256 tokens on the Llama-3.2-1B, Llama-3.1-8B and Qwen3-8B shapes, and 4 beat 8 by 3-9% at
     * 2048.
     */
    static int rotaryCacheWarps(int tokens) {
        return tokens <= ROTARY_CACHE_FEW_TOKENS ? 16 : 4;
    }

    /** {@link #rotaryCache} with at most {@code maxWarps} warps per token: for the benchmark's comparison. */
    void rotaryCache(CUstream s, CUdeviceptr qkv, int qkvStride, CUdeviceptr positions, CUdeviceptr slotMapping,
                     int n, CUdeviceptr invFreq, CUdeviceptr qNorm, CUdeviceptr kNorm, float eps, int numHeads,
                     int numKvHeads, int headDim, CUdeviceptr kCache, CUdeviceptr vCache, int blockSize,
                     int maxWarps) {
        checkRotary(n, qkvStride, numHeads, numKvHeads, headDim);
        positive("blockSize", blockSize);
        if (maxWarps <= 0 || maxWarps > 32) {
            throw new IllegalArgumentException("maxWarps must be in [1, 32], got " + maxWarps);
        }
        int warps = Math.min(maxWarps, numHeads + 2 * numKvHeads);
        Launch.kernel(rotaryCache, s, n, 1, 1, 32 * warps, 0, qkv, qkvStride, positions, slotMapping, invFreq,
                orNull(qNorm), orNull(kNorm), eps, numHeads, numKvHeads, headDim, kCache, vCache, blockSize);
    }

    private static void checkRotary(int n, int qkvStride, int numHeads, int numKvHeads, int headDim) {
        positive("n", n);
        positive("numHeads", numHeads);
        positive("numKvHeads", numKvHeads);
        if (headDim < 2 || headDim > MAX_HEAD_DIM || headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim must be even and in [2, " + MAX_HEAD_DIM + "], got "
                    + headDim);
        }
        long width = (long) (numHeads + 2 * numKvHeads) * headDim;
        if (qkvStride < width) {
            throw new IllegalArgumentException("qkvStride " + qkvStride + " is narrower than the " + width
                    + " values of " + numHeads + " q heads and 2 x " + numKvHeads + " kv heads of " + headDim);
        }
    }

    /**
     * {@code out[t][j] = bf16(silu(gateUp[t][j]) * gateUp[t][inter + j])}: gateUp fp32 {@code [n][2 * inter]}, out
     * bf16 {@code [n][inter]}. The engine runs this fused into the GEMM ({@link Gemm#runSiluMul}); this kernel is
     * that epilogue's unfused reference, which GemmGpuTest matches bit for bit and GemmBench times against.
     */
    void siluAndMul(CUstream s, CUdeviceptr gateUp, CUdeviceptr out, int n, int inter) {
        positive("n", n);
        positive("inter", inter);
        Launch.kernel(siluAndMul, s, flatBlocks((long) n * inter), 1, 1, FLAT_THREADS, 0, gateUp, out, n, inter);
    }

    /** {@code dst[i] = bf16(src[i])}, round to nearest even: src fp32 {@code [count]}, dst bf16 {@code [count]}. */
    void toBf16(CUstream s, CUdeviceptr src, CUdeviceptr dst, long count) {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive, got " + count);
        }
        Launch.kernel(toBf16, s, flatBlocks(count), 1, 1, FLAT_THREADS, 0, src, dst, count);
    }

    /** One thread per {@code perThread} values, in whole warps, at most {@code max}: a function of the width only. */
    private static int rowThreads(int width, int perThread, int max) {
        int vectors = (width + perThread - 1) / perThread;
        return Math.min(max, Math.max(32, (vectors + 31) / 32 * 32));
    }

    /** Blocks of a grid-stride kernel that handles 8 values per thread per turn. */
    private static int flatBlocks(long count) {
        long vectors = (count + 7) / 8;
        return (int) Math.min(MAX_FLAT_BLOCKS, (vectors + FLAT_THREADS - 1) / FLAT_THREADS);
    }

    private static CUdeviceptr orNull(CUdeviceptr p) {
        return p != null ? p : new CUdeviceptr();
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
