package io.kindling.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigParserTest {

    @TempDir
    Path dir;

    /** Llama 3.2 1B as transformers 4.x saves it. */
    private static final String LLAMA_3_2_V4 = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
             "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
             "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
             "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "transformers_version": "4.45.0", "vocab_size": 128256}""";

    @Test
    void llamaTransformers4() throws IOException {
        ModelConfig c = parse(LLAMA_3_2_V4);

        assertEquals(new ModelConfig(Architecture.LLAMA, 128256, 2048, 8192, 16, 32, 8, 64, 1e-5,
                new Rope(500000.0, "llama3", 32.0, 1.0, 4.0, 8192), 131072, true, false, false, OptionalInt.empty(),
                DType.BF16, OptionalInt.of(128000), List.of(128001, 128008, 128009)), c);
        assertEquals(2048, c.qSize());
        assertEquals(512, c.kvSize());
    }

    @Test
    void llamaTransformers5() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "bos_token_id": 128000, "dtype": "float16",
                 "eos_token_id": 128001, "hidden_size": 2048, "intermediate_size": 8192,
                 "max_position_embeddings": 131072, "num_attention_heads": 32, "num_hidden_layers": 16,
                 "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
                 "rope_parameters": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                     "original_max_position_embeddings": 8192, "rope_theta": 500000.0,
                                     "rope_type": "llama3"},
                 "tie_word_embeddings": true, "transformers_version": "5.0.0", "vocab_size": 128256}""");

        assertEquals(new Rope(500000.0, "llama3", 32.0, 1.0, 4.0, 8192), c.rope());
        assertEquals(64, c.headDim(), "hidden_size / num_attention_heads without head_dim");
        assertEquals(DType.F16, c.dtype());
        assertEquals(List.of(128001), c.eosTokenIds());
    }

    @Test
    void llama2LegacyDefaults() throws IOException {
        ModelConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "max_position_embeddings": 4096, "num_attention_heads": 4, "num_hidden_layers": 2,
                 "rms_norm_eps": 1e-06, "rope_scaling": {"type": "linear", "factor": 2.0}, "vocab_size": 100}""");

        assertEquals(4, c.numKeyValueHeads(), "defaults to num_attention_heads");
        assertEquals(16, c.headDim());
        assertFalse(c.tieWordEmbeddings(), "LlamaConfig default");
        assertEquals(new Rope(10000.0, "linear", 2.0, 0, 0, 0), c.rope());
        assertEquals(DType.F32, c.dtype(), "undeclared: the dtype passed in");
        assertEquals(OptionalInt.empty(), c.bosTokenId());
        assertEquals(List.of(), c.eosTokenIds());
    }

    @Test
    void llamaAttentionBiasIsRefusedRatherThanIgnored() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> parse(LLAMA_3_2_V4.replace("\"attention_bias\": false", "\"attention_bias\": true")));
        assertTrue(e.getMessage().contains("attention_bias"), e.getMessage());
    }

    @Test
    void mistralSlidingWindow() throws IOException {
        String v01 = """
                {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                 "max_position_embeddings": 32768, "num_attention_heads": 32, "num_hidden_layers": 32,
                 "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
                 "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 32000,
                 "bos_token_id": 1, "eos_token_id": 2, "attention_bias": true}""";
        ModelConfig c = parse(v01);
        assertEquals(Architecture.MISTRAL, c.architecture());
        assertEquals(OptionalInt.of(4096), c.slidingWindow());
        assertFalse(c.qkvBias(), "MistralAttention has no biases, whatever attention_bias says");
        assertEquals(Rope.standard(10000.0), c.rope());

        ModelConfig v03 = parse(v01.replace("\"sliding_window\": 4096", "\"sliding_window\": null"));
        assertEquals(OptionalInt.empty(), v03.slidingWindow());

        ModelConfig unstated = parse(v01.replace("\"sliding_window\": 4096,", ""));
        assertEquals(OptionalInt.of(4096), unstated.slidingWindow(), "MistralConfig default");
    }

    /** Qwen2.5 0.5B as transformers 4.x saves it: a window is configured but not used. */
    private static final String QWEN2_V4 = """
            {"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151645,
             "hidden_act": "silu", "hidden_size": 896, "intermediate_size": 4864, "max_position_embeddings": 32768,
             "max_window_layers": 21, "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000.0, "sliding_window": 32768,
             "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true,
             "use_sliding_window": false, "vocab_size": 151936}""";

    @Test
    void qwen2Transformers4() throws IOException {
        ModelConfig c = parse(QWEN2_V4);

        assertEquals(new ModelConfig(Architecture.QWEN2, 151936, 896, 4864, 24, 14, 2, 64, 1e-6,
                Rope.standard(1000000.0), 32768, true, true, false, OptionalInt.empty(), DType.BF16,
                OptionalInt.of(151643), List.of(151645)), c);
    }

    @Test
    void qwen2SlidingWindowOnlyWhenEveryLayerUsesIt() throws IOException {
        String enabled = QWEN2_V4.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true");
        ModelConfig all = parse(enabled.replace("\"max_window_layers\": 21", "\"max_window_layers\": 0"));
        assertEquals(OptionalInt.of(32768), all.slidingWindow());

        ModelConfig none = parse(enabled.replace("\"max_window_layers\": 21", "\"max_window_layers\": 24"));
        assertEquals(OptionalInt.empty(), none.slidingWindow());

        ModelLoadException mixed = assertThrows(ModelLoadException.class, () -> parse(enabled));
        assertTrue(mixed.getMessage().endsWith("use_sliding_window is true with a window on 3 of 24 layers; "
                + "per-layer sliding windows are not supported"), mixed.getMessage());
    }

    /** Qwen3 0.6B as transformers 5.x saves it. */
    @Test
    void qwen3Transformers5() throws IOException {
        String layerTypes = "\"full_attention\", ".repeat(27) + "\"full_attention\"";
        ModelConfig c = parse("""
                {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "bos_token_id": 151643,
                 "dtype": "bfloat16", "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
                 "hidden_size": 1024, "intermediate_size": 3072, "layer_types": [%s],
                 "max_position_embeddings": 40960, "max_window_layers": 28, "num_attention_heads": 16,
                 "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
                 "rope_parameters": {"rope_theta": 1000000, "rope_type": "default"}, "sliding_window": null,
                 "tie_word_embeddings": true, "transformers_version": "5.0.0", "use_sliding_window": false,
                 "vocab_size": 151936}""".formatted(layerTypes));

        assertEquals(new ModelConfig(Architecture.QWEN3, 151936, 1024, 3072, 28, 16, 8, 128, 1e-6,
                Rope.standard(1000000.0), 40960, true, false, true, OptionalInt.empty(), DType.BF16,
                OptionalInt.of(151643), List.of(151645)), c);
        assertEquals(2048, c.qSize(), "explicit head_dim, not hidden_size / heads");
    }

    @Test
    void unsupportedArchitectureListsTheSupportedOnes() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> parse(QWEN2_V4.replace("Qwen2ForCausalLM", "GemmaForCausalLM")));

        assertEquals(dir.resolve("config.json"), e.file());
        assertEquals(dir.resolve("config.json") + ": architectures names GemmaForCausalLM, which is not supported; "
                + "supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM",
                e.getMessage());
    }

    @Test
    void missingKeyIsNamed() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> parse(QWEN2_V4.replace("\"hidden_size\": 896,", "")));

        assertEquals(dir.resolve("config.json") + ": missing required key hidden_size", e.getMessage());
    }

    @Test
    void unsupportedRopeTypeIsNamed() {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> parse(QWEN2_V4.replace(
                "\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}")));

        assertTrue(e.getMessage().endsWith("rope_scaling.type is yarn, which is not supported; "
                + "supported: default, linear, llama3"), e.getMessage());
    }

    @Test
    void llama3RopeWithoutItsFactorsFails() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> parse(LLAMA_3_2_V4.replace("\"low_freq_factor\": 1.0,", "")));

        assertTrue(e.getMessage().endsWith("missing required key rope_scaling.low_freq_factor"), e.getMessage());
    }

    @Test
    void wrongTypesAndUnsupportedOptionsFail() {
        assertTrue(assertThrows(ModelLoadException.class, () -> parse(QWEN2_V4.replace("\"hidden_size\": 896",
                "\"hidden_size\": \"896\""))).getMessage().endsWith("hidden_size must be an integer, got \"896\""));
        assertTrue(assertThrows(ModelLoadException.class, () -> parse(QWEN2_V4.replace("\"silu\"", "\"gelu\"")))
                .getMessage().endsWith("hidden_act is gelu; only silu is supported"));
        assertTrue(assertThrows(ModelLoadException.class, () -> parse(LLAMA_3_2_V4.replace("\"mlp_bias\": false",
                "\"mlp_bias\": true"))).getMessage().endsWith("mlp_bias is true; MLP biases are not supported"));
        assertTrue(assertThrows(ModelLoadException.class, () -> parse(QWEN2_V4.replace("\"num_key_value_heads\": 2",
                "\"num_key_value_heads\": 3"))).getMessage()
                .endsWith("num_key_value_heads (3) must divide num_attention_heads (14)"));
        assertTrue(assertThrows(ModelLoadException.class, () -> parse(QWEN2_V4.replace("\"bfloat16\"",
                "\"float8_e4m3fn\""))).getMessage()
                .endsWith("torch_dtype is float8_e4m3fn; supported: bfloat16, float16, float32"));
        assertTrue(assertThrows(ModelLoadException.class, () -> parse("{\"architectures\": ["))
                .getMessage().contains("malformed JSON"));
    }

    @Test
    void missingFileIsNamed() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> ModelConfigParser.parse(dir.resolve("config.json"), DType.F32));
        assertEquals(dir.resolve("config.json") + ": file not found", e.getMessage());
    }

    private ModelConfig parse(String json) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        return ModelConfigParser.parse(file, DType.F32);
    }
}
