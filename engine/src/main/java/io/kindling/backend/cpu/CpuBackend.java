package io.kindling.backend.cpu;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.BatchSampler;
import io.kindling.backend.BatchValidator;
import io.kindling.backend.Logits;
import io.kindling.model.ModelConfig;
import io.kindling.model.Weights;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * The model in float32 on the CPU, reading K/V only through block tables.
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
    private final RotaryEmbedding rope;
    private final PagedAttention attention;
    private final float eps;
    private final PanelKernel kernel;
    private final CpuThreads threads;
    private final CpuBatchSampler sampler;
    private PagedKvCache cache;

    /** Uses the Vector API kernel when the JVM runs with {@code --add-modules jdk.incubator.vector}. */
    public CpuBackend(ModelConfig config, Weights weights, int numThreads) {
        this(config, weights, numThreads, PanelKernel.best());
    }

    CpuBackend(ModelConfig config, Weights weights, int numThreads, PanelKernel kernel) {
        if (config.headDim() % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + config.headDim());
        }
        if (config.numAttentionHeads() % config.numKeyValueHeads() != 0) {
            throw new IllegalArgumentException("num_attention_heads " + config.numAttentionHeads()
                    + " is not a multiple of num_key_value_heads " + config.numKeyValueHeads());
        }
        this.config = config;
        this.kernel = kernel;
        this.weights = ModelWeights.load(config, weights, kernel);
        this.rope = new RotaryEmbedding(config);
        this.attention = new PagedAttention(config);
        this.eps = (float) config.rmsNormEps();
        this.threads = new CpuThreads(numThreads);
        this.sampler = new CpuBatchSampler(threads);
    }

    @Override
    public String device() {
        return "cpu (" + threads.numThreads() + (threads.numThreads() == 1 ? " thread, " : " threads, ")
                + kernel.description() + ")";
    }

    /** {@link #KV_HEAP_SHARE} of {@code Runtime.maxMemory()} less the weights, at most {@link #MAX_AUTO_KV_BYTES}. */
    @Override
    public OptionalLong kvCacheBudgetBytes() {
        return OptionalLong.of(autoKvBudget(Runtime.getRuntime().maxMemory(), weights.heapBytes()));
    }

    static long autoKvBudget(long maxHeapBytes, long weightBytes) {
        return Math.max(0, Math.min(MAX_AUTO_KV_BYTES, (long) (KV_HEAP_SHARE * maxHeapBytes) - weightBytes));
    }

    @Override
    public long kvCacheBytesPerBlock(int blockSize) {
        return 2L * config.numHiddenLayers() * blockSize * config.kvSize() * Float.BYTES;
    }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        if (cache != null) {
            throw new IllegalStateException("KV cache already allocated (" + cache.numBlocks + " blocks of "
                    + cache.blockSize + ")");
        }
        cache = new PagedKvCache(config.numHiddenLayers(), numBlocks, blockSize, config.kvSize());
    }

    @Override
    public void copyBlocks(int[] src, int[] dst) {
        if (cache == null) {
            throw new IllegalStateException("allocateKvCache must run before copyBlocks");
        }
        cache.copyBlocks(src, dst);
    }

    @Override
    public Logits forward(BatchInputs batch) {
        if (cache == null) {
            throw new IllegalStateException("allocateKvCache must run before forward");
        }
        int[] tokenSeq = new BatchValidator(config.vocabSize(), cache.numBlocks, cache.blockSize)
                .tokenSequences(batch);
        int n = batch.numTokens();
        int hidden = config.hiddenSize();
        int qSize = config.qSize();
        int kvSize = config.kvSize();
        int qkvStride = qSize + 2 * kvSize;
        int inter = config.intermediateSize();

        float[] x = new float[n * hidden];
        for (int t = 0; t < n; t++) {
            weights.embed(batch.inputIds()[t], x, t * hidden);
        }
        RotaryEmbedding.Table angles = rope.table(batch.positions());
        float[] normed = new float[n * hidden];
        float[] qkv = new float[n * qkvStride];
        float[] attnOut = new float[n * qSize];
        float[] projected = new float[n * hidden];
        float[] gateUp = new float[n * 2 * inter];
        float[] act = new float[n * inter];

        for (int l = 0; l < weights.layers.size(); l++) {
            ModelWeights.Layer layer = weights.layers.get(l);
            // attention
            threads.parallelFor(n, t -> RmsNorm.apply(x, t * hidden, layer.inputNorm(), eps, normed, t * hidden));
            layer.qkv().multiply(normed, n, qkv, threads);
            threads.parallelFor(n, t -> positionQueryKey(layer, angles, qkv, t, t * qkvStride));
            for (int t = 0; t < n; t++) {
                int row = t * qkvStride;
                cache.write(l, batch.slotMapping()[t], qkv, row + qSize, row + qSize + kvSize);
            }
            Arrays.fill(attnOut, 0f);
            attention.run(qkv, qkvStride, cache, l, batch, tokenSeq, attnOut, threads);
            layer.o().multiply(attnOut, n, projected, threads);
            addInPlace(x, projected);
            // MLP
            threads.parallelFor(n, t -> RmsNorm.apply(x, t * hidden, layer.postAttentionNorm(), eps, normed, t * hidden));
            layer.gateUp().multiply(normed, n, gateUp, threads);
            threads.parallelFor(n, t -> Activation.siluAndMultiply(gateUp, t * 2 * inter, act, t * inter, inter));
            layer.down().multiply(act, n, projected, threads);
            addInPlace(x, projected);
        }
        return logits(x, batch.logitsIndices());
    }

    /** Qwen3's per-head q/k norms, then RoPE on q and k of token {@code t}, in place. */
    private void positionQueryKey(ModelWeights.Layer layer, RotaryEmbedding.Table angles, float[] qkv, int t, int row) {
        int headDim = config.headDim();
        int kRow = row + config.qSize();
        if (layer.qNorm() != null) {
            for (int h = 0; h < config.numAttentionHeads(); h++) {
                RmsNorm.apply(qkv, row + h * headDim, layer.qNorm(), eps, qkv, row + h * headDim);
            }
            for (int h = 0; h < config.numKeyValueHeads(); h++) {
                RmsNorm.apply(qkv, kRow + h * headDim, layer.kNorm(), eps, qkv, kRow + h * headDim);
            }
        }
        rope.apply(angles, t, qkv, row, config.numAttentionHeads());
        rope.apply(angles, t, qkv, kRow, config.numKeyValueHeads());
    }

    private static void addInPlace(float[] x, float[] delta) {
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
    }

    /** Final norm and LM head for the wanted rows only. */
    private Logits logits(float[] x, int[] logitsIndices) {
        int hidden = config.hiddenSize();
        int vocab = config.vocabSize();
        int m = logitsIndices.length;
        float[] last = new float[m * hidden];
        threads.parallelFor(m, j -> RmsNorm.apply(x, logitsIndices[j] * hidden, weights.finalNorm, eps, last, j * hidden));
        float[] flat = new float[m * vocab];
        weights.lmHead.multiply(last, m, flat, threads);
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
