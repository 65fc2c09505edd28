package io.kindling.backend.cpu;

import io.kindling.backend.WeightShapeException;
import io.kindling.model.ModelConfig;
import io.kindling.model.TensorInfo;
import io.kindling.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All parameters in float32, read once from the checkpoint and checked against the config. Projections that read
 * the same input are fused (q/k/v, gate/up) so one pass over the activations feeds them all. Public only for
 * {@link #embedRow}, the CPU twin of the CUDA embedding gather.
 */
public final class ModelWeights {

    /** One decoder layer. {@code qNorm}/{@code kNorm} are null unless the model has per-head q/k norms. */
    record Layer(float[] inputNorm, PackedMatrix qkv, float[] qNorm, float[] kNorm, PackedMatrix o,
                 float[] postAttentionNorm, PackedMatrix gateUp, PackedMatrix down) {
    }

    private final int hidden;
    /** Row-major {@code [vocab, hidden]}; null when tied, then rows come from {@link #lmHead}. */
    private final float[] embedding;
    final List<Layer> layers;
    final float[] finalNorm;
    final PackedMatrix lmHead;

    private ModelWeights(int hidden, float[] embedding, List<Layer> layers, float[] finalNorm, PackedMatrix lmHead) {
        this.hidden = hidden;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    static ModelWeights load(ModelConfig config, Weights weights, PanelKernel kernel) {
        Reader r = new Reader(weights);
        int hidden = config.hiddenSize();
        int vocab = config.vocabSize();
        float[] embed = r.read("model.embed_tokens.weight", "vocab_size, hidden_size", vocab, hidden);
        List<Layer> layers = new ArrayList<>(config.numHiddenLayers());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(loadLayer(config, r, kernel, "model.layers." + i + "."));
        }
        float[] finalNorm = r.read("model.norm.weight", "hidden_size", hidden);
        float[] head = config.tieWordEmbeddings()
                ? embed
                : r.read("lm_head.weight", "vocab_size, hidden_size", vocab, hidden);
        PackedMatrix lmHead = PackedMatrix.pack(kernel, hidden, List.of(head), Arrays.asList((float[]) null));
        return new ModelWeights(hidden, config.tieWordEmbeddings() ? null : embed, layers, finalNorm, lmHead);
    }

    private static Layer loadLayer(ModelConfig config, Reader r, PanelKernel kernel, String prefix) {
        int hidden = config.hiddenSize();
        int q = config.qSize();
        int kv = config.kvSize();
        int inter = config.intermediateSize();
        String attn = prefix + "self_attn.";
        String mlp = prefix + "mlp.";
        PackedMatrix qkv = PackedMatrix.pack(kernel, hidden,
                List.of(r.read(attn + "q_proj.weight", "num_attention_heads * head_dim, hidden_size", q, hidden),
                        r.read(attn + "k_proj.weight", "num_key_value_heads * head_dim, hidden_size", kv, hidden),
                        r.read(attn + "v_proj.weight", "num_key_value_heads * head_dim, hidden_size", kv, hidden)),
                config.qkvBias()
                        ? List.of(r.read(attn + "q_proj.bias", "num_attention_heads * head_dim", q),
                                  r.read(attn + "k_proj.bias", "num_key_value_heads * head_dim", kv),
                                  r.read(attn + "v_proj.bias", "num_key_value_heads * head_dim", kv))
                        : Arrays.asList(null, null, null));
        // Llama's attention_bias and mlp_bias also put biases on o_proj and the MLP; Qwen2 has q/k/v biases only.
        PackedMatrix o = PackedMatrix.pack(kernel, q,
                List.of(r.read(attn + "o_proj.weight", "hidden_size, num_attention_heads * head_dim", hidden, q)),
                Arrays.asList(r.readIfPresent(attn + "o_proj.bias", "hidden_size", hidden)));
        PackedMatrix gateUp = PackedMatrix.pack(kernel, hidden,
                List.of(r.read(mlp + "gate_proj.weight", "intermediate_size, hidden_size", inter, hidden),
                        r.read(mlp + "up_proj.weight", "intermediate_size, hidden_size", inter, hidden)),
                Arrays.asList(r.readIfPresent(mlp + "gate_proj.bias", "intermediate_size", inter),
                              r.readIfPresent(mlp + "up_proj.bias", "intermediate_size", inter)));
        PackedMatrix down = PackedMatrix.pack(kernel, inter,
                List.of(r.read(mlp + "down_proj.weight", "hidden_size, intermediate_size", hidden, inter)),
                Arrays.asList(r.readIfPresent(mlp + "down_proj.bias", "hidden_size", hidden)));
        float[] qNorm = config.qkNorm() ? r.read(attn + "q_norm.weight", "head_dim", config.headDim()) : null;
        float[] kNorm = config.qkNorm() ? r.read(attn + "k_norm.weight", "head_dim", config.headDim()) : null;
        return new Layer(
                r.read(prefix + "input_layernorm.weight", "hidden_size", hidden),
                qkv, qNorm, kNorm, o,
                r.read(prefix + "post_attention_layernorm.weight", "hidden_size", hidden),
                gateUp, down);
    }

    /** Bytes of the heap all parameters take. */
    long heapBytes() {
        long bytes = floats(embedding) + floats(finalNorm) + lmHead.heapBytes();
        for (Layer l : layers) {
            bytes += floats(l.inputNorm()) + l.qkv().heapBytes() + floats(l.qNorm()) + floats(l.kNorm())
                    + l.o().heapBytes() + floats(l.postAttentionNorm()) + l.gateUp().heapBytes() + l.down().heapBytes();
        }
        return bytes;
    }

    private static long floats(float[] values) {
        return values == null ? 0 : (long) Float.BYTES * values.length;
    }

    /** Copies token {@code id}'s embedding into {@code dst[offset ..]}. */
    void embed(int id, float[] dst, int offset) {
        if (embedding == null) {
            lmHead.copyRow(id, dst, offset);
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
