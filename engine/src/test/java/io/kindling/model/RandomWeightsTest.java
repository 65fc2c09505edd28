package io.kindling.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomWeightsTest {

    /** Qwen2, so q/k/v biases are among the tensors; vocab x hidden spans several parallel chunks. */
    private static final String QWEN2 = """
            {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 32, "intermediate_size": 40,
             "max_position_embeddings": 256, "num_attention_heads": 4, "num_hidden_layers": 2,
             "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "tie_word_embeddings": false,
             "vocab_size": 5000, "eos_token_id": 9, "torch_dtype": "bfloat16"}""";

    @TempDir
    Path dir;

    private Path config() throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, QWEN2);
        return file;
    }

    private RandomWeights weights(long seed, int threads) throws IOException {
        Path file = config();
        ModelConfig config = ModelConfigParser.parse(file, DType.BF16);
        return new RandomWeights(file, config, seed, RandomWeights.DEFAULT_STD, threads);
    }

    @Test
    void holdsTheTensorsTheConfigImpliesInBf16() throws IOException {
        Path file = config();
        ModelConfig config = ModelConfigParser.parse(file, DType.BF16);
        Map<String, long[]> expected = ExpectedTensors.of(config);
        try (RandomWeights weights = RandomWeights.of(file, config, 1)) {
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(weights.names()));
            assertTrue(weights.contains("model.layers.1.self_attn.k_proj.bias"));
            assertTrue(weights.contains("lm_head.weight"));
            expected.forEach((name, shape) -> {
                TensorInfo info = weights.info(name);
                assertEquals(DType.BF16, info.dtype(), name);
                assertArrayEquals(shape, info.shape(), name);
                assertEquals(2 * info.numElements(), weights.readBf16(name).remaining(), name);
            });
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> weights.readBf16("model.nope"));
            assertTrue(e.getMessage().contains("model.nope"), e.getMessage());
        }
    }

    @Test
    void valuesDoNotDependOnTheThreadCountOrReadOrder() throws IOException {
        try (RandomWeights one = weights(7, 1); RandomWeights three = weights(7, 3)) {
            List<String> reversed = new ArrayList<>(one.names());
            Collections.reverse(reversed);
            for (String name : reversed) {
                three.readBf16(name);  // reading others first changes nothing
            }
            for (String name : one.names()) {
                assertEquals(one.readBf16(name), three.readBf16(name), name);
            }
        }
    }

    @Test
    void floatsAreExactlyTheBf16Values() throws IOException {
        try (RandomWeights weights = weights(3, 2)) {
            for (String name : weights.names()) {
                ByteBuffer bf16 = weights.readBf16(name);
                assertEquals(ByteOrder.LITTLE_ENDIAN, bf16.order());
                assertTrue(bf16.isDirect() && bf16.isReadOnly(), name);
                float[] floats = weights.readFloats(name);
                assertEquals(bf16.remaining() / 2, floats.length, name);
                for (int i = 0; i < floats.length; i++) {
                    assertEquals(HalfFloats.bf16ToFloat(bf16.getShort(2 * i)), floats[i], name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void anOddElementCountGetsItsLastElement() throws IOException {
        Path file = dir.resolve("odd.json");
        Files.writeString(file, """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 33, "head_dim": 10, "intermediate_size": 41,
                 "max_position_embeddings": 64, "num_attention_heads": 3, "num_hidden_layers": 1,
                 "num_key_value_heads": 1, "rms_norm_eps": 1e-05, "vocab_size": 4001}""");
        ModelConfig config = ModelConfigParser.parse(file, DType.BF16);
        try (RandomWeights weights = new RandomWeights(file, config, 3, 0.5f, 2)) {
            for (String name : List.of("model.embed_tokens.weight", "model.layers.0.mlp.gate_proj.weight")) {
                ByteBuffer bf16 = weights.readBf16(name);
                float[] floats = weights.readFloats(name);
                assertEquals(1, floats.length % 2, name);
                int last = floats.length - 1;
                assertTrue(floats[last] != 0.0f, name + ": last element written");
                assertEquals(HalfFloats.bf16ToFloat(bf16.getShort(2 * last)), floats[last], name);
            }
        }
    }

    @Test
    void normsAreOneAndTheRestUniformWithTheInitializerStd() throws IOException {
        try (RandomWeights weights = weights(11, 2)) {
            for (String name : List.of("model.norm.weight", "model.layers.0.input_layernorm.weight",
                    "model.layers.1.post_attention_layernorm.weight")) {
                for (float v : weights.readFloats(name)) {
                    assertEquals(1.0f, v, name);
                }
            }
            float[] embedding = weights.readFloats("model.embed_tokens.weight");
            double sum = 0;
            double squares = 0;
            float bound = (float) (RandomWeights.DEFAULT_STD * Math.sqrt(3)) * 1.004f;  // plus bf16 rounding
            for (float v : embedding) {
                assertTrue(Math.abs(v) <= bound, "outside the uniform range: " + v);
                sum += v;
                squares += v * v;
            }
            double mean = sum / embedding.length;
            double std = Math.sqrt(squares / embedding.length - mean * mean);
            assertEquals(0.0, mean, 2e-4);
            assertEquals(RandomWeights.DEFAULT_STD, std, 2e-4);
        }
    }

    @Test
    void seedsAndTensorsGetTheirOwnValues() throws IOException {
        try (RandomWeights a = weights(1, 2); RandomWeights b = weights(2, 2)) {
            String q = "model.layers.0.self_attn.q_proj.weight";
            assertFalse(a.readBf16(q).equals(b.readBf16(q)), "another seed, other values");
            assertFalse(a.readBf16(q).equals(a.readBf16("model.layers.1.self_attn.q_proj.weight")),
                    "another layer, other values");
            ByteBuffer gate = a.readBf16("model.layers.0.mlp.gate_proj.weight");
            ByteBuffer up = a.readBf16("model.layers.0.mlp.up_proj.weight");
            assertFalse(gate.equals(up), "same shape, other values");
        }
    }

    @Test
    void aCheckpointFromAConfigFileOrItsDirectory() throws IOException {
        Path file = config();
        for (Path model : List.of(file, dir)) {
            try (Checkpoint checkpoint = Checkpoint.withRandomWeights(model, 5)) {
                assertEquals(dir.toAbsolutePath(), checkpoint.dir());
                assertEquals(5000, checkpoint.config().vocabSize());
                assertTrue(checkpoint.weights() instanceof RandomWeights);
                assertTrue(checkpoint.generationConfig().eosTokenIds().isEmpty());
            }
        }
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> Checkpoint.withRandomWeights(dir.resolve("absent"), 5));
        assertTrue(e.getMessage().contains("absent: file not found"), e.getMessage());
    }
}
