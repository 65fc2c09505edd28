package io.kindling.backend.cpu;

import io.kindling.model.Architecture;
import io.kindling.model.DType;
import io.kindling.model.ModelConfig;
import io.kindling.model.Rope;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;

/** Small configurations covering every variant the CPU backend implements, and random weights for them. */
final class TinyModels {

    private TinyModels() {
    }

    /** vocab 101 is not a multiple of the 64-wide weight panels, so padding is exercised too. */
    static ModelConfig config(Architecture arch, int hidden, int heads, int kvHeads, int headDim, Rope rope,
                              boolean tied, boolean qkvBias, boolean qkNorm, OptionalInt window) {
        return new ModelConfig(arch, 101, hidden, 96, 2, heads, kvHeads, headDim, 1e-6, rope, 256, tied, qkvBias,
                qkNorm, window, DType.F32, OptionalInt.of(1), List.of(2));
    }

    static ModelConfig llamaGqa() {
        return config(Architecture.LLAMA, 64, 4, 2, 16, Rope.standard(10000), false, false, false, OptionalInt.empty());
    }

    static ModelConfig llamaMha() {
        return config(Architecture.LLAMA, 64, 4, 4, 16, Rope.standard(10000), false, false, false, OptionalInt.empty());
    }

    static ModelConfig llamaMqa() {
        return config(Architecture.LLAMA, 64, 4, 1, 16, Rope.standard(500000), true, false, false, OptionalInt.empty());
    }

    /** Wavelengths fall on all three sides of the llama3 thresholds (16 and 64 tokens) at head_dim 16. */
    static ModelConfig llama3Scaled() {
        return config(Architecture.LLAMA, 64, 4, 2, 16, new Rope(500000, "llama3", 8, 1, 4, 64), true, false, false,
                OptionalInt.empty());
    }

    static ModelConfig qwen2Bias() {
        return config(Architecture.QWEN2, 64, 4, 2, 16, Rope.standard(1000000), true, true, false, OptionalInt.empty());
    }

    /** Qwen3 with head_dim 24, not hidden / heads = 16. */
    static ModelConfig qwen3QkNorm() {
        return config(Architecture.QWEN3, 64, 4, 2, 24, Rope.standard(1000000), true, false, true, OptionalInt.empty());
    }

    static ModelConfig mistralWindow() {
        return config(Architecture.MISTRAL, 64, 4, 2, 16, Rope.standard(10000), false, false, false, OptionalInt.of(5));
    }

    /** Random weights of the config's shapes; std 0.2 keeps logits well spread through two layers. */
    static MapWeights weights(ModelConfig c, long seed) {
        Random rnd = new Random(seed);
        MapWeights w = new MapWeights();
        int hidden = c.hiddenSize();
        w.put("model.embed_tokens.weight", gaussian(rnd, c.vocabSize() * hidden, 0.5, 0), c.vocabSize(), hidden);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", gaussian(rnd, hidden, 0.1, 1), hidden);
            w.put(p + "post_attention_layernorm.weight", gaussian(rnd, hidden, 0.1, 1), hidden);
            linear(w, rnd, p + "self_attn.q_proj", c.qSize(), hidden, c.qkvBias());
            linear(w, rnd, p + "self_attn.k_proj", c.kvSize(), hidden, c.qkvBias());
            linear(w, rnd, p + "self_attn.v_proj", c.kvSize(), hidden, c.qkvBias());
            linear(w, rnd, p + "self_attn.o_proj", hidden, c.qSize(), false);
            if (c.qkNorm()) {
                w.put(p + "self_attn.q_norm.weight", gaussian(rnd, c.headDim(), 0.1, 1), c.headDim());
                w.put(p + "self_attn.k_norm.weight", gaussian(rnd, c.headDim(), 0.1, 1), c.headDim());
            }
            linear(w, rnd, p + "mlp.gate_proj", c.intermediateSize(), hidden, false);
            linear(w, rnd, p + "mlp.up_proj", c.intermediateSize(), hidden, false);
            linear(w, rnd, p + "mlp.down_proj", hidden, c.intermediateSize(), false);
        }
        w.put("model.norm.weight", gaussian(rnd, hidden, 0.1, 1), hidden);
        if (!c.tieWordEmbeddings()) {
            linear(w, rnd, "lm_head", c.vocabSize(), hidden, false);
        }
        return w;
    }

    private static void linear(MapWeights w, Random rnd, String name, int out, int in, boolean bias) {
        w.put(name + ".weight", gaussian(rnd, out * in, 0.2, 0), out, in);
        if (bias) {
            w.put(name + ".bias", gaussian(rnd, out, 0.2, 0), out);
        }
    }

    private static float[] gaussian(Random rnd, int n, double std, double mean) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + std * rnd.nextGaussian());
        }
        return v;
    }
}
