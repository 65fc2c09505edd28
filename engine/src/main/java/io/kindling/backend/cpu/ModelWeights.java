package io.kindling.backend.cpu;

import io.kindling.backend.TensorParallelPlan;
import io.kindling.backend.TensorParallelPlan.Shard;
import io.kindling.backend.WeightShapeException;
import io.kindling.model.ModelConfig;
import io.kindling.model.TensorInfo;
import io.kindling.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All parameters in float32, read once from the checkpoint, checked against the config and split over the
 * tensor-parallel ranks of a {@link TensorParallelPlan}: the projections go to each rank's {@link RankWeights}, and
 * what every rank shares stays here (the embedding, the norms, which are computed once before the ranks run, and the
 * row-parallel biases, added once after the all-reduce). Public only for {@link #embedRow}, the CPU twin of the CUDA
 * embedding gather.
 */
public final class ModelWeights {

    /**
     * What the ranks of one decoder layer share. {@code qNorm}/{@code kNorm} are null unless the model has per-head
     * q/k norms (they are per head_dim, so every rank applies the same); {@code oBias}/{@code downBias} are null
     * unless it has o_proj/down_proj biases.
     */
    record Layer(float[] inputNorm, float[] qNorm, float[] kNorm, float[] oBias, float[] postAttentionNorm,
                 float[] downBias) {
    }

    private final int hidden;
    private final TensorParallelPlan plan;
    /** Row-major {@code [vocab, hidden]}; null when tied, then rows come from the ranks' LM heads. */
    private final float[] embedding;
    final List<Layer> layers;
    final float[] finalNorm;
    /** One per rank, in rank order. */
    final List<RankWeights> ranks;

    private ModelWeights(int hidden, TensorParallelPlan plan, float[] embedding, List<Layer> layers,
                         float[] finalNorm, List<RankWeights> ranks) {
        this.hidden = hidden;
        this.plan = plan;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.ranks = ranks;
    }

    static ModelWeights load(ModelConfig config, Weights weights, PanelKernel kernel, TensorParallelPlan plan) {
        Reader r = new Reader(weights);
        int hidden = config.hiddenSize();
        int vocab = config.vocabSize();
        float[] embed = r.read("model.embed_tokens.weight", "vocab_size, hidden_size", vocab, hidden);
        List<Layer> layers = new ArrayList<>(config.numHiddenLayers());
        List<List<RankWeights.Layer>> rankLayers = new ArrayList<>();
        plan.shards().forEach(s -> rankLayers.add(new ArrayList<>(config.numHiddenLayers())));
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            LayerTensors tensors = readLayer(config, r, "model.layers." + i + ".");
            layers.add(tensors.shared());
            for (Shard shard : plan.shards()) {
                rankLayers.get(shard.rank()).add(RankWeights.Layer.shard(tensors, shard, config, kernel));
            }
        }
        float[] finalNorm = r.read("model.norm.weight", "hidden_size", hidden);
        float[] head = config.tieWordEmbeddings()
                ? embed
                : r.read("lm_head.weight", "vocab_size, hidden_size", vocab, hidden);
        List<RankWeights> ranks = new ArrayList<>();
        for (Shard shard : plan.shards()) {
            ranks.add(new RankWeights(rankLayers.get(shard.rank()), RankWeights.lmHead(head, hidden, shard, kernel)));
        }
        return new ModelWeights(hidden, plan, config.tieWordEmbeddings() ? null : embed, layers, finalNorm, ranks);
    }

    private static LayerTensors readLayer(ModelConfig config, Reader r, String prefix) {
        int hidden = config.hiddenSize();
        int q = config.qSize();
        int kv = config.kvSize();
        int inter = config.intermediateSize();
        String attn = prefix + "self_attn.";
        String mlp = prefix + "mlp.";
        boolean bias = config.qkvBias();
        // Llama's attention_bias and mlp_bias also put biases on o_proj and the MLP; Qwen2 has q/k/v biases only.
        return new LayerTensors(
                r.read(prefix + "input_layernorm.weight", "hidden_size", hidden),
                r.read(attn + "q_proj.weight", "num_attention_heads * head_dim, hidden_size", q, hidden),
                r.read(attn + "k_proj.weight", "num_key_value_heads * head_dim, hidden_size", kv, hidden),
                r.read(attn + "v_proj.weight", "num_key_value_heads * head_dim, hidden_size", kv, hidden),
                bias ? r.read(attn + "q_proj.bias", "num_attention_heads * head_dim", q) : null,
                bias ? r.read(attn + "k_proj.bias", "num_key_value_heads * head_dim", kv) : null,
                bias ? r.read(attn + "v_proj.bias", "num_key_value_heads * head_dim", kv) : null,
                config.qkNorm() ? r.read(attn + "q_norm.weight", "head_dim", config.headDim()) : null,
                config.qkNorm() ? r.read(attn + "k_norm.weight", "head_dim", config.headDim()) : null,
                r.read(attn + "o_proj.weight", "hidden_size, num_attention_heads * head_dim", hidden, q),
                r.readIfPresent(attn + "o_proj.bias", "hidden_size", hidden),
                r.read(prefix + "post_attention_layernorm.weight", "hidden_size", hidden),
                r.read(mlp + "gate_proj.weight", "intermediate_size, hidden_size", inter, hidden),
                r.read(mlp + "up_proj.weight", "intermediate_size, hidden_size", inter, hidden),
                r.readIfPresent(mlp + "gate_proj.bias", "intermediate_size", inter),
                r.readIfPresent(mlp + "up_proj.bias", "intermediate_size", inter),
                r.read(mlp + "down_proj.weight", "hidden_size, intermediate_size", hidden, inter),
                r.readIfPresent(mlp + "down_proj.bias", "hidden_size", hidden));
    }

    /** Bytes of the heap all parameters take, every rank's included. */
    long heapBytes() {
        long bytes = floats(embedding) + floats(finalNorm);
        for (Layer l : layers) {
            bytes += floats(l.inputNorm()) + floats(l.qNorm()) + floats(l.kNorm()) + floats(l.oBias())
                    + floats(l.postAttentionNorm()) + floats(l.downBias());
        }
        for (RankWeights rank : ranks) {
            bytes += rank.heapBytes();
        }
        return bytes;
    }

    static long floats(float[] values) {
        return values == null ? 0 : (long) Float.BYTES * values.length;
    }

    /** Copies token {@code id}'s embedding into {@code dst[offset ..]}. */
    void embed(int id, float[] dst, int offset) {
        if (embedding == null) {
            Shard owner = plan.vocabOwner(id);
            ranks.get(owner.rank()).lmHead().copyRow(id - owner.vocab().start(), dst, offset);
        } else {
            embedRow(embedding, hidden, id, dst, offset);
        }
    }

    /** Copies row {@code id} of the row-major {@code [vocab, hidden]} {@code table} into {@code dst[offset ..]}. */
    public static void embedRow(float[] table, int hidden, int id, float[] dst, int offset) {
        System.arraycopy(table, id * hidden, dst, offset, hidden);
    }

    private record Reader(Weights weights) {

        float[] readIfPresent(String name, String derivation, long... shape) {
            return weights.contains(name) ? read(name, derivation, shape) : null;
        }

        float[] read(String name, String derivation, long... shape) {
            TensorInfo info = weights.info(name);
            if (!Arrays.equals(info.shape(), shape)) {
                throw new WeightShapeException(name, shape, info.shape(), derivation);
            }
            float[] values = weights.readFloats(name);
            if (values.length != info.numElements()) {
                throw new IllegalStateException("tensor " + name + " read " + values.length + " values, its shape "
                        + Arrays.toString(shape) + " holds " + info.numElements());
            }
            return values;
        }
    }
}
