package io.kindling.backend.cpu;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.BatchValidator;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.Logits;
import io.kindling.backend.TensorParallelPlan;
import io.kindling.model.ModelConfig;
import io.kindling.model.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The model in float32 on the CPU, reading K/V only through block tables, split over the ranks of a
 * {@link TensorParallelPlan} ({@link CpuRank}; one rank when {@code tensor_parallel_size} is 1). The norms run once
 * on the whole hidden state; each rank runs its heads and MLP features; {@link AllReduce} adds the ranks' partial
 * o_proj and down_proj outputs in rank order; the ranks' vocabulary slices are gathered into whole logit rows.
 *
 * <p>Every token's hidden states and logits are bit-identical whatever else shares its batch, however its prefill
 * is chunked and whatever the thread count: each output element is computed whole by one task in a fixed order
 * (see {@link PackedMatrix} and {@link PagedAttention}), and all other steps work token by token.
 */
public final class CpuBackend implements Backend {

    /**
     * The automatic KV budget: this share of the most heap the JVM may take, less the weights. A quarter leaves the
     * rest to the application around the engine (a Spark executor's own memory, rows, shuffle buffers).
     */
    static final double KV_HEAP_SHARE = 0.25;
    /** The automatic KV budget's cap: more slots than a CPU can keep busy. */
    static final long MAX_AUTO_KV_BYTES = 1L << 30;

    private final ModelConfig config;
    private final ModelWeights weights;
    private final List<CpuRank> ranks;
    private final RotaryEmbedding rope;
    private final float eps;
    private final PanelKernel kernel;
    private final CpuThreads threads;
    private final CpuBatchSampler sampler;
    /** Set by {@link #allocateKvCache}; 0 before. */
    private int numBlocks;
    private int blockSize;

    /**
     * Uses the Vector API kernel when the JVM runs with {@code --add-modules jdk.incubator.vector}.
     *
     * @param tensorParallelSize ranks to split the model over ({@link TensorParallelPlan}); 1: none
     * @throws io.kindling.backend.TensorParallelException when that size does not divide the model
     */
    public CpuBackend(ModelConfig config, Weights weights, int numThreads, int tensorParallelSize) {
        this(config, weights, numThreads, tensorParallelSize, PanelKernel.best());
    }

    CpuBackend(ModelConfig config, Weights weights, int numThreads, int tensorParallelSize, PanelKernel kernel) {
        if (config.headDim() % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + config.headDim());
        }
        if (config.numAttentionHeads() % config.numKeyValueHeads() != 0) {
            throw new IllegalArgumentException("num_attention_heads " + config.numAttentionHeads()
                    + " is not a multiple of num_key_value_heads " + config.numKeyValueHeads());
        }
        TensorParallelPlan plan = TensorParallelPlan.of(config, tensorParallelSize);
        this.config = config;
        this.kernel = kernel;
        this.weights = ModelWeights.load(config, weights, kernel, plan);
        this.rope = new RotaryEmbedding(config);
        this.eps = (float) config.rmsNormEps();
        this.threads = new CpuThreads(numThreads);
        this.sampler = new CpuBatchSampler(threads);
        List<CpuRank> ranks = new ArrayList<>();
        for (TensorParallelPlan.Shard shard : plan.shards()) {
            ranks.add(new CpuRank(config, shard, this.weights.ranks.get(shard.rank()), rope, threads));
        }
        this.ranks = List.copyOf(ranks);
    }

    @Override
    public String device() {
        return "cpu (" + threads.numThreads() + (threads.numThreads() == 1 ? " thread, " : " threads, ")
                + (ranks.size() == 1 ? "" : "tensor_parallel_size " + ranks.size() + ", ") + kernel.description() + ")";
    }

    /** {@link #KV_HEAP_SHARE} of {@code Runtime.maxMemory()} less the weights, at most {@link #MAX_AUTO_KV_BYTES}. */
    @Override
    public OptionalLong kvCacheBudgetBytes() {
        return OptionalLong.of(autoKvBudget(Runtime.getRuntime().maxMemory(), weights.heapBytes()));
    }

    static long autoKvBudget(long maxHeapBytes, long weightBytes) {
        return Math.max(0, Math.min(MAX_AUTO_KV_BYTES, (long) (KV_HEAP_SHARE * maxHeapBytes) - weightBytes));
    }

    /** The ranks' KV heads together: as much as the unsplit model's. */
    @Override
    public long kvCacheBytesPerBlock(int blockSize) {
        return ranks.stream().mapToLong(r -> r.kvCacheBytesPerBlock(blockSize)).sum();
    }

    /** Each rank's cache holds its KV heads of the same block ids: one block table serves them all. */
    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        if (this.numBlocks != 0) {
            throw new IllegalStateException("KV cache already allocated (" + this.numBlocks + " blocks of "
                    + this.blockSize + ")");
        }
        for (CpuRank rank : ranks) {
            rank.allocateKvCache(numBlocks, blockSize);
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
    }

    @Override
    public void copyBlocks(int[] src, int[] dst) {
        if (numBlocks == 0) {
            throw new IllegalStateException("allocateKvCache must run before copyBlocks");
        }
        for (CpuRank rank : ranks) {
            rank.copyBlocks(src, dst);
        }
    }

    @Override
    public boolean takesDeferredTokens() {
        return true;
    }

    /** The deferred ids come from the sampler's last launch, written into {@code batch}'s placeholders. */
    @Override
    public Logits forward(BatchInputs batch, DeferredTokens deferred) {
        sampler.resolve(deferred, batch.inputIds());
        return forward(batch);
    }

    @Override
    public Logits forward(BatchInputs batch) {
        if (numBlocks == 0) {
            throw new IllegalStateException("allocateKvCache must run before forward");
        }
        int[] tokenSeq = new BatchValidator(config.vocabSize(), numBlocks, blockSize).tokenSequences(batch);
        int n = batch.numTokens();
        int hidden = config.hiddenSize();

        float[] x = new float[n * hidden];
        for (int t = 0; t < n; t++) {
            weights.embed(batch.inputIds()[t], x, t * hidden);
        }
        RotaryEmbedding.Table angles = rope.table(batch.positions(), n);
        float[] normed = new float[n * hidden];
        float[][] partials = new float[ranks.size()][n * hidden];
        List<CpuRank.Activations> activations = ranks.stream().map(r -> r.activations(n)).toList();

        for (int l = 0; l < weights.layers.size(); l++) {
            ModelWeights.Layer layer = weights.layers.get(l);
            // attention: column-parallel QKV, each rank's heads, row-parallel o_proj, all-reduce
            threads.parallelFor(n, t -> RmsNorm.apply(x, t * hidden, layer.inputNorm(), eps, normed, t * hidden));
            for (int r = 0; r < ranks.size(); r++) {
                ranks.get(r).attention(l, layer, normed, batch, tokenSeq, angles, activations.get(r), partials[r]);
            }
            AllReduce.addToResidual(x, partials, layer.oBias(), hidden);
            // MLP: column-parallel gate/up, row-parallel down_proj, all-reduce
            threads.parallelFor(n, t -> RmsNorm.apply(x, t * hidden, layer.postAttentionNorm(), eps, normed, t * hidden));
            for (int r = 0; r < ranks.size(); r++) {
                ranks.get(r).mlp(l, normed, n, activations.get(r), partials[r]);
            }
            AllReduce.addToResidual(x, partials, layer.downBias(), hidden);
        }
        return logits(x, batch.logitsIndices(), batch.numLogits());
    }

    /**
     * Final norm and LM head for the wanted rows only (the first {@code m} of {@code logitsIndices}), each rank's
     * vocabulary gathered into whole rows.
     */
    private Logits logits(float[] x, int[] logitsIndices, int m) {
        int hidden = config.hiddenSize();
        int vocab = config.vocabSize();
        float[] last = new float[m * hidden];
        threads.parallelFor(m, j -> RmsNorm.apply(x, logitsIndices[j] * hidden, weights.finalNorm, eps, last, j * hidden));
        float[] flat = new float[m * vocab];
        for (CpuRank rank : ranks) {
            rank.logits(last, m, flat);
        }
        return new HostLogits(flat, m, vocab);
    }

    @Override
    public BatchSampler sampler() {
        return sampler;
    }

    @Override
    public void close() {
        threads.close();
    }
}
