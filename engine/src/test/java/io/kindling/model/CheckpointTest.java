package io.kindling.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A one-layer Qwen2 checkpoint: hidden 8, 2 query heads and 1 KV head of dim 4, MLP 12, vocabulary 10. */
class CheckpointTest {

    private static final String CONFIG = """
            {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 8, "intermediate_size": 12,
             "max_position_embeddings": 64, "num_attention_heads": 2, "num_hidden_layers": 1,
             "num_key_value_heads": 1, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "tie_word_embeddings": true,
             "use_sliding_window": false, "vocab_size": 10, "eos_token_id": 9}""";

    @TempDir
    Path dir;

    private static SafetensorsWriter qwen2Weights() {
        int[] ones = new int[10 * 8];
        Arrays.fill(ones, 0x3f80);
        return new SafetensorsWriter()
                .halves("model.embed_tokens.weight", "BF16", new long[] {10, 8}, ones)
                .counting("model.layers.0.input_layernorm.weight", 8)
                .counting("model.layers.0.self_attn.q_proj.weight", 8, 8)
                .counting("model.layers.0.self_attn.q_proj.bias", 8)
                .counting("model.layers.0.self_attn.k_proj.weight", 4, 8)
                .counting("model.layers.0.self_attn.k_proj.bias", 4)
                .counting("model.layers.0.self_attn.v_proj.weight", 4, 8)
                .counting("model.layers.0.self_attn.v_proj.bias", 4)
                .counting("model.layers.0.self_attn.o_proj.weight", 8, 8)
                .counting("model.layers.0.post_attention_layernorm.weight", 8)
                .counting("model.layers.0.mlp.gate_proj.weight", 12, 8)
                .counting("model.layers.0.mlp.up_proj.weight", 12, 8)
                .counting("model.layers.0.mlp.down_proj.weight", 8, 12)
                .counting("model.norm.weight", 8);
    }

    @Test
    void opensConfigGenerationDefaultsAndWeights() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        Files.writeString(dir.resolve("generation_config.json"), """
                {"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
                 "repetition_penalty": 1.1, "temperature": 0.7, "top_k": 20, "top_p": 0.8, "min_p": 0.0,
                 "max_new_tokens": 256, "transformers_version": "4.37.0"}""");
        qwen2Weights().write(dir.resolve("model.safetensors"));

        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            ModelConfig c = checkpoint.config();
            assertEquals(new ModelConfig(Architecture.QWEN2, 10, 8, 12, 1, 2, 1, 4, 1e-6, Rope.standard(10000.0), 64,
                    true, true, false, OptionalInt.empty(), DType.BF16, OptionalInt.empty(), List.of(9)), c,
                    "no torch_dtype: the embedding's dtype");
            assertEquals(new GenerationConfig(Optional.of(0.7), Optional.of(0.8), OptionalInt.of(20), Optional.of(0.0),
                    Optional.of(1.1), OptionalInt.of(256), List.of(151645, 151643)), checkpoint.generationConfig());
            assertArrayEquals(new float[] {0, 1, 2, 3}, checkpoint.weights().readFloats(
                    "model.layers.0.self_attn.k_proj.bias"));
        }
    }

    @Test
    void generationConfigIsOptional() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        qwen2Weights().write(dir.resolve("model.safetensors"));

        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertEquals(GenerationConfig.empty(), checkpoint.generationConfig());
        }
    }

    @Test
    void misShapedTensorFailsAtLoad() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        qwen2Weights().counting("model.layers.0.self_attn.k_proj.weight", 8, 8).write(dir.resolve("model.safetensors"));

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Checkpoint.open(dir));
        assertEquals(dir.resolve("model.safetensors") + ": tensor model.layers.0.self_attn.k_proj.weight has shape "
                + "[8, 8], but config.json implies [4, 8]", e.getMessage());
    }

    @Test
    void missingBiasFailsAtLoad() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG);
        qwen2Weights().remove("model.layers.0.self_attn.v_proj.bias").write(dir.resolve("model.safetensors"));

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().endsWith("missing tensor model.layers.0.self_attn.v_proj.bias [4], "
                + "which config.json implies"), e.getMessage());
    }

    @Test
    void untiedEmbeddingsNeedAnLmHead() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG.replace("\"tie_word_embeddings\": true",
                "\"tie_word_embeddings\": false"));
        qwen2Weights().write(dir.resolve("model.safetensors"));
        assertTrue(assertThrows(ModelLoadException.class, () -> Checkpoint.open(dir)).getMessage()
                .contains("missing tensor lm_head.weight [10, 8]"));

        qwen2Weights().counting("lm_head.weight", 10, 8).write(dir.resolve("model.safetensors"));
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertEquals(79f, checkpoint.weights().readFloats("lm_head.weight")[79]);
        }
    }

    @Test
    void qwen3NeedsPerHeadNorms() throws IOException {
        Files.writeString(dir.resolve("config.json"), CONFIG.replace("Qwen2ForCausalLM", "Qwen3ForCausalLM"));
        SafetensorsWriter weights = qwen2Weights().remove("model.layers.0.self_attn.q_proj.bias")
                .remove("model.layers.0.self_attn.k_proj.bias").remove("model.layers.0.self_attn.v_proj.bias");
        weights.write(dir.resolve("model.safetensors"));
        assertTrue(assertThrows(ModelLoadException.class, () -> Checkpoint.open(dir)).getMessage()
                .contains("missing tensor model.layers.0.self_attn.q_norm.weight [4]"));

        weights.counting("model.layers.0.self_attn.q_norm.weight", 4)
                .counting("model.layers.0.self_attn.k_norm.weight", 4)
                .write(dir.resolve("model.safetensors"));
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertTrue(checkpoint.config().qkNorm());
        }
    }

    @Test
    void notADirectoryFails() {
        Path missing = dir.resolve("nope");
        assertEquals(missing + ": not a checkpoint directory",
                assertThrows(ModelLoadException.class, () -> Checkpoint.open(missing)).getMessage());
    }
}
