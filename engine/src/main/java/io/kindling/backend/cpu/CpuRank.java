package io.kindling.backend.cpu;

import io.kindling.backend.BatchInputs;
import io.kindling.backend.TensorParallelPlan.Shard;
import io.kindling.model.ModelConfig;
import java.util.Arrays;

/**
 * One tensor-parallel rank of the CPU backend: its projections ({@link RankWeights}), the KV cache of its KV heads
 * and attention over its query heads. From a step's normalized hidden states it computes its partial sums of the
 * row-parallel o_proj and down_proj outputs, which {@link AllReduce} adds up, and its vocabulary's logits, which it
 * writes straight into their columns of the gathered rows. The ranks of one backend run one after another, each on
 * all of the backend's threads.
 */
final class CpuRank {

    /** One step's activations on this rank, reused by every layer. */
    record Activations(float[] qkv, float[] attnOut, float[] gateUp, float[] act) {
    }

    private final ModelConfig config;
    private final RankWeights weights;
    private final int vocabStart;
    private final int numHeads;
    private final int numKvHeads;
    private final int qSize;
    private final int kvSize;
    private final int inter;
    private final PagedAttention attention;
    private final RotaryEmbedding rope;
    private final float eps;
    private final CpuThreads threads;
    private PagedKvCache cache;

    CpuRank(ModelConfig config, Shard shard, RankWeights weights, RotaryEmbedding rope, CpuThreads threads) {
        this.config = config;
        this.weights = weights;
        this.vocabStart = shard.vocab().start();
        this.numHeads = shard.queryHeads().size();
        this.numKvHeads = shard.kvHeads().size();
        this.qSize = numHeads * config.headDim();
        this.kvSize = numKvHeads * config.headDim();
        this.inter = shard.intermediate().size();
        this.attention = new PagedAttention(config, numHeads, numKvHeads);
        this.rope = rope;
        this.eps = (float) config.rmsNormEps();
        this.threads = threads;
    }

    /** Bytes of this rank's KV heads in one block of every layer. */
    long kvCacheBytesPerBlock(int blockSize) {
        return 2L * config.numHiddenLayers() * blockSize * kvSize * Float.BYTES;
    }

    void allocateKvCache(int numBlocks, int blockSize) {
        cache = new PagedKvCache(config.numHiddenLayers(), numBlocks, blockSize, kvSize);
    }

    void copyBlocks(int[] src, int[] dst) {
        cache.copyBlocks(src, dst);
    }

    Activations activations(int numTokens) {
        return new Activations(new float[numTokens * (qSize + 2 * kvSize)], new float[numTokens * qSize],
                new float[numTokens * 2 * inter], new float[numTokens * inter]);
    }

    /**
     * Layer {@code l}'s attention on this rank's heads: QKV, q/k norms and RoPE, K/V into the cache, paged attention
     * and this rank's partial o_proj output (no bias) into {@code partial [numTokens][hidden]}.
     */
    void attention(int l, ModelWeights.Layer shared, float[] normed, BatchInputs batch, int[] tokenSeq,
                   RotaryEmbedding.Table angles, Activations a, float[] partial) {
        RankWeights.Layer layer = weights.layers().get(l);
        int n = batch.numTokens();
        int qkvStride = qSize + 2 * kvSize;
        layer.qkv().multiply(normed, n, a.qkv(), threads);
        threads.parallelFor(n, t -> positionQueryKey(shared, angles, a.qkv(), t, t * qkvStride));
        for (int t = 0; t < n; t++) {
            int row = t * qkvStride;
            cache.write(l, batch.slotMapping()[t], a.qkv(), row + qSize, row + qSize + kvSize);
        }
        Arrays.fill(a.attnOut(), 0f);
        attention.run(a.qkv(), qkvStride, cache, l, batch, tokenSeq, a.attnOut(), threads);
        layer.o().multiply(a.attnOut(), n, partial, threads);
    }

    /** Layer {@code l}'s MLP on this rank's features: gate/up, SiLU * up, and the partial down_proj output. */
    void mlp(int l, float[] normed, int numTokens, Activations a, float[] partial) {
        RankWeights.Layer layer = weights.layers().get(l);
        layer.gateUp().multiply(normed, numTokens, a.gateUp(), threads);
        threads.parallelFor(numTokens,
                t -> Activation.siluAndMultiply(a.gateUp(), t * 2 * inter, a.act(), t * inter, inter));
        layer.down().multiply(a.act(), numTokens, partial, threads);
    }

    /** This rank's vocabulary's logits of {@code rows} rows, into their columns of {@code logits [rows][vocab]}. */
    void logits(float[] normed, int rows, float[] logits) {
        weights.lmHead().multiply(normed, rows, logits, config.vocabSize(), vocabStart, threads);
    }

    /** Qwen3's per-head q/k norms, then RoPE on q and k of token {@code t}, in place. */
    private void positionQueryKey(ModelWeights.Layer shared, RotaryEmbedding.Table angles, float[] qkv, int t,
                                  int row) {
        int headDim = config.headDim();
        int kRow = row + qSize;
        if (shared.qNorm() != null) {
            for (int h = 0; h < numHeads; h++) {
                RmsNorm.apply(qkv, row + h * headDim, shared.qNorm(), eps, qkv, row + h * headDim);
            }
            for (int h = 0; h < numKvHeads; h++) {
                RmsNorm.apply(qkv, kRow + h * headDim, shared.kNorm(), eps, qkv, kRow + h * headDim);
            }
        }
        rope.apply(angles, t, qkv, row, numHeads);
        rope.apply(angles, t, qkv, kRow, numKvHeads);
    }
}
