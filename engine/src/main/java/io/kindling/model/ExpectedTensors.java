package io.kindling.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors (Hugging Face names) and shapes that a {@link ModelConfig} implies. Checking them at load makes a
 * checkpoint that disagrees with its config fail with the tensor's name instead of producing garbage.
 */
final class ExpectedTensors {

    private ExpectedTensors() {
    }

    /** Name to shape ({@code [out, in]} for projections, as {@code nn.Linear} stores them), in model order. */
    static Map<String, long[]> of(ModelConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long hidden = c.hiddenSize();
        shapes.put("model.embed_tokens.weight", new long[] {c.vocabSize(), hidden});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String layer = "model.layers." + i + ".";
            String attn = layer + "self_attn.";
            shapes.put(layer + "input_layernorm.weight", new long[] {hidden});
            shapes.put(attn + "q_proj.weight", new long[] {c.qSize(), hidden});
            shapes.put(attn + "k_proj.weight", new long[] {c.kvSize(), hidden});
            shapes.put(attn + "v_proj.weight", new long[] {c.kvSize(), hidden});
            if (c.qkvBias()) {
                shapes.put(attn + "q_proj.bias", new long[] {c.qSize()});
                shapes.put(attn + "k_proj.bias", new long[] {c.kvSize()});
                shapes.put(attn + "v_proj.bias", new long[] {c.kvSize()});
            }
            if (c.qkNorm()) {
                shapes.put(attn + "q_norm.weight", new long[] {c.headDim()});
                shapes.put(attn + "k_norm.weight", new long[] {c.headDim()});
            }
            shapes.put(attn + "o_proj.weight", new long[] {hidden, c.qSize()});
            shapes.put(layer + "post_attention_layernorm.weight", new long[] {hidden});
            shapes.put(layer + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), hidden});
            shapes.put(layer + "mlp.up_proj.weight", new long[] {c.intermediateSize(), hidden});
            shapes.put(layer + "mlp.down_proj.weight", new long[] {hidden, c.intermediateSize()});
        }
        shapes.put("model.norm.weight", new long[] {hidden});
        if (!c.tieWordEmbeddings()) {
            shapes.put("lm_head.weight", new long[] {c.vocabSize(), hidden});
        }
        return shapes;
    }

    /** @throws ModelLoadException naming the first tensor that is missing or mis-shaped */
    static void verify(ModelConfig config, SafetensorsWeights weights) {
        of(config).forEach((name, shape) -> {
            if (!weights.contains(name)) {
                throw new ModelLoadException(weights.fileOf(name), "missing tensor " + name + " "
                        + Arrays.toString(shape) + ", which config.json implies");
            }
            long[] actual = weights.info(name).shape();
            if (!Arrays.equals(actual, shape)) {
                throw new ModelLoadException(weights.fileOf(name), "tensor " + name + " has shape "
                        + Arrays.toString(actual) + ", but config.json implies " + Arrays.toString(shape));
            }
        });
    }
}
