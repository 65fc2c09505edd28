package io.kindling.backend.cpu;

import io.kindling.backend.BatchInputs;
import io.kindling.backend.BatchValidator;
import io.kindling.model.ModelConfig;

/**
 * Causal attention of each new token over its sequence's cached K/V, read through the block table. One query
 * head of one token is computed whole by one task, visiting context positions in increasing order, so a token
 * gets the same bits whether it arrives in a long prefill, a chunk or a decode step.
 */
public final class PagedAttention {

    private final int numHeads;
    private final int headDim;
    private final int groupSize;
    private final int slidingWindow;
    private final float scale;

    /** Over {@code numHeads} query heads reading {@code numKvHeads} KV heads: the whole model's, or one rank's. */
    PagedAttention(ModelConfig config, int numHeads, int numKvHeads) {
        this.numHeads = numHeads;
        this.headDim = config.headDim();
        this.groupSize = numHeads / numKvHeads;
        this.slidingWindow = config.slidingWindow().orElse(Integer.MAX_VALUE);
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * The CPU twin other backends' kernels are checked against: one layer's attention for {@code batch} (validated
     * as {@link CpuBackend#forward} validates it) over float32 K/V in this backend's cache layout.
     *
     * @param keys   {@code [numSlots][numKvHeads * headDim]}, slot = block * blockSize + offset
     * @param values same layout as {@code keys}
     * @return {@code [numTokens][numHeads * headDim]}
     */
    public static float[] reference(ModelConfig config, BatchInputs batch, float[] qkv, int qkvStride, float[] keys,
                                    float[] values, int blockSize) {
        PagedKvCache cache = new PagedKvCache(blockSize, config.kvSize(), keys, values);
        int[] tokenSeq = new BatchValidator(Integer.MAX_VALUE, cache.numBlocks, cache.blockSize)
                .tokenSequences(batch);
        float[] out = new float[batch.numTokens() * config.qSize()];
        try (CpuThreads threads = new CpuThreads(Runtime.getRuntime().availableProcessors())) {
            new PagedAttention(config, config.numAttentionHeads(), config.numKeyValueHeads()).run(qkv, qkvStride, cache, 0, batch, tokenSeq, out, threads);
        }
        return out;
    }

    /**
     * @param qkv       {@code [numTokens][qkvStride]}, queries at the start of each row
     * @param tokenSeq  sequence index of each token
     * @param out       {@code [numTokens][numHeads * headDim]}
     */
    void run(float[] qkv, int qkvStride, PagedKvCache cache, int layer, BatchInputs batch, int[] tokenSeq,
             float[] out, CpuThreads threads) {
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int qSize = numHeads * headDim;
        threads.parallelFor(batch.numTokens() * numHeads, task -> {
            int t = task / numHeads;
            int h = task % numHeads;
            int pos = batch.positions()[t];
            int[] blockTable = batch.blockTables()[tokenSeq[t]];
            int first = Math.max(0, pos - slidingWindow + 1);
            int kvHeadOffset = (h / groupSize) * headDim;
            int q = t * qkvStride + h * headDim;
            float[] scores = new float[pos + 1 - first];
            float max = Float.NEGATIVE_INFINITY;
            for (int p = first; p <= pos; p++) {
                float s = dot(qkv, q, keys, cache.offset(blockTable, p) + kvHeadOffset, headDim) * scale;
                scores[p - first] = s;
                max = Math.max(max, s);
            }
            float sum = 0;
            for (int j = 0; j < scores.length; j++) {
                float e = (float) Math.exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            int o = t * qSize + h * headDim;
            for (int p = first; p <= pos; p++) {
                float weight = scores[p - first] / sum;
                int vOff = cache.offset(blockTable, p) + kvHeadOffset;
                for (int d = 0; d < headDim; d++) {
                    out[o + d] += weight * values[vOff + d];
                }
            }
        });
    }

    /** Four interleaved partial sums: a fixed order that breaks the add latency chain. */
    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += a[aOff + i] * b[bOff + i];
            s1 += a[aOff + i + 1] * b[bOff + i + 1];
            s2 += a[aOff + i + 2] * b[bOff + i + 2];
            s3 += a[aOff + i + 3] * b[bOff + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[aOff + i] * b[bOff + i];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
