package io.kindling.model;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * Reads {@code config.json} into a {@link ModelConfig}, accepting the keys of transformers 4.x
 * ({@code rope_theta}, {@code rope_scaling}, {@code torch_dtype}) and 5.x ({@code rope_parameters},
 * {@code dtype}). Keys the families default in transformers get the same defaults here; options the engine
 * does not implement are refused rather than ignored, so a checkpoint never loads into a wrong model.
 */
final class ModelConfigParser {

    private static final double DEFAULT_ROPE_THETA = 10000.0;
    private static final List<String> SUPPORTED_ROPE_TYPES = List.of("default", "linear", "llama3");
    // MistralConfig's default window, used when config.json does not mention sliding_window at all.
    private static final int MISTRAL_DEFAULT_SLIDING_WINDOW = 4096;
    // Qwen2Config/Qwen3Config default for max_window_layers.
    private static final int QWEN_DEFAULT_MAX_WINDOW_LAYERS = 28;

    private ModelConfigParser() {
    }

    /** @param undeclaredDtype the dtype to report when config.json names none (the weights' own dtype) */
    static ModelConfig parse(Path file, DType undeclaredDtype) {
        JsonFile json = JsonFile.read(file);
        Architecture architecture = architecture(json);
        checkSupportedMlp(json, architecture);

        int hiddenSize = json.requiredInt("hidden_size");
        int numHeads = json.requiredInt("num_attention_heads");
        int numKvHeads = json.optionalInt("num_key_value_heads").orElse(numHeads);
        int headDim = json.optionalInt("head_dim").orElse(numHeads > 0 ? hiddenSize / numHeads : 0);
        int numLayers = json.requiredInt("num_hidden_layers");
        requirePositive(json, "hidden_size", hiddenSize);
        requirePositive(json, "num_attention_heads", numHeads);
        requirePositive(json, "num_key_value_heads", numKvHeads);
        requirePositive(json, "num_hidden_layers", numLayers);
        if (headDim <= 0 || headDim % 2 != 0) {
            throw json.invalid("head_dim", "must be a positive even number (RoPE rotates pairs), got " + headDim);
        }
        if (numHeads % numKvHeads != 0) {
            throw json.invalid("num_key_value_heads", "(" + numKvHeads + ") must divide num_attention_heads ("
                    + numHeads + ")");
        }
        boolean attentionBias = json.optionalBoolean("attention_bias").orElse(false);
        if (attentionBias && (architecture == Architecture.LLAMA || architecture == Architecture.QWEN3)) {
            // There attention_bias also puts a bias on o_proj, which the backends do not implement.
            // (Qwen2 always has q/k/v biases; Mistral's attention has none, whatever the key says.)
            throw json.invalid("attention_bias", "true is not supported for " + architecture.hfName());
        }

        return new ModelConfig(
                architecture,
                positive(json, "vocab_size"),
                hiddenSize,
                positive(json, "intermediate_size"),
                numLayers,
                numHeads,
                numKvHeads,
                headDim,
                json.requiredDouble("rms_norm_eps"),
                rope(json),
                positive(json, "max_position_embeddings"),
                json.optionalBoolean("tie_word_embeddings").orElse(false),
                architecture == Architecture.QWEN2,
                architecture == Architecture.QWEN3,
                slidingWindow(json, architecture, numLayers),
                dtype(json, undeclaredDtype),
                json.optionalInt("bos_token_id"),
                json.intOrIntList("eos_token_id"));
    }

    private static Architecture architecture(JsonFile json) {
        List<String> names = json.stringList("architectures");
        if (names.isEmpty()) {
            throw json.missing("architectures");
        }
        return Architecture.fromHfName(names.get(0)).orElseThrow(() -> json.invalid("architectures",
                "names " + names.get(0) + ", which is not supported; supported: " + Arrays.stream(
                        Architecture.values()).map(Architecture::hfName).collect(Collectors.joining(", "))));
    }

    private static void checkSupportedMlp(JsonFile json, Architecture architecture) {
        String act = json.optionalString("hidden_act").orElse("silu");
        if (!act.equals("silu")) {
            throw json.invalid("hidden_act", "is " + act + "; only silu is supported");
        }
        if (architecture == Architecture.LLAMA && json.optionalBoolean("mlp_bias").orElse(false)) {
            throw json.invalid("mlp_bias", "is true; MLP biases are not supported");
        }
    }

    /** 5.x {@code rope_parameters} first; else 4.x {@code rope_theta} with optional {@code rope_scaling}. */
    private static Rope rope(JsonFile json) {
        Optional<JsonFile> parameters = json.object("rope_parameters");
        double theta = parameters.flatMap(p -> p.optionalDouble("rope_theta"))
                .or(() -> json.optionalDouble("rope_theta"))
                .orElse(DEFAULT_ROPE_THETA);
        Optional<JsonFile> scaling = parameters.or(() -> json.object("rope_scaling"));
        if (scaling.isEmpty()) {
            return Rope.standard(theta);
        }
        JsonFile s = scaling.get();
        // transformers 4.x renamed rope_scaling.type to rope_type and still accepts the legacy key.
        String type = s.optionalString("rope_type").or(() -> s.optionalString("type")).orElse("default");
        switch (type) {
            case "default" -> {
                return Rope.standard(theta);
            }
            case "linear" -> {
                return new Rope(theta, type, s.requiredDouble("factor"), 0, 0, 0);
            }
            case "llama3" -> {
                double low = s.requiredDouble("low_freq_factor");
                double high = s.requiredDouble("high_freq_factor");
                if (high <= low) {
                    throw s.invalid("high_freq_factor", "(" + high + ") must exceed low_freq_factor (" + low + ")");
                }
                return new Rope(theta, type, s.requiredDouble("factor"), low, high,
                        s.requiredInt("original_max_position_embeddings"));
            }
            default -> throw s.invalid(s.has("rope_type") ? "rope_type" : "type", "is " + type
                    + ", which is not supported; supported: " + String.join(", ", SUPPORTED_ROPE_TYPES));
        }
    }

    /**
     * Mistral: {@code sliding_window} unless null. Qwen2/3: only with {@code use_sliding_window}, and then only
     * on the layers that {@code layer_types} (or {@code i >= max_window_layers}) mark; a window on some
     * layers but not others cannot be expressed by one {@link ModelConfig#slidingWindow()} and is refused.
     */
    private static OptionalInt slidingWindow(JsonFile json, Architecture architecture, int numLayers) {
        switch (architecture) {
            case LLAMA -> {
                return OptionalInt.empty();
            }
            case MISTRAL -> {
                if (!json.node().has("sliding_window")) {
                    return OptionalInt.of(MISTRAL_DEFAULT_SLIDING_WINDOW);
                }
                return json.optionalInt("sliding_window");
            }
            default -> {
                if (!json.optionalBoolean("use_sliding_window").orElse(false)) {
                    return OptionalInt.empty();
                }
                OptionalInt window = json.optionalInt("sliding_window");
                if (window.isEmpty()) {
                    return window;
                }
                int slidingLayers = slidingLayerCount(json, numLayers);
                if (slidingLayers == 0) {
                    return OptionalInt.empty();
                }
                if (slidingLayers != numLayers) {
                    throw json.invalid("use_sliding_window", "is true with a window on " + slidingLayers + " of "
                            + numLayers + " layers; per-layer sliding windows are not supported");
                }
                return window;
            }
        }
    }

    private static int slidingLayerCount(JsonFile json, int numLayers) {
        List<String> layerTypes = json.stringList("layer_types");
        if (!layerTypes.isEmpty()) {
            if (layerTypes.size() != numLayers) {
                throw json.invalid("layer_types", "lists " + layerTypes.size() + " layers, but num_hidden_layers is "
                        + numLayers);
            }
            return (int) layerTypes.stream().filter("sliding_attention"::equals).count();
        }
        int maxWindowLayers = json.optionalInt("max_window_layers").orElse(QWEN_DEFAULT_MAX_WINDOW_LAYERS);
        return Math.max(0, numLayers - Math.max(0, maxWindowLayers));
    }

    private static DType dtype(JsonFile json, DType undeclared) {
        String key = json.has("dtype") ? "dtype" : "torch_dtype";
        Optional<String> name = json.optionalString(key);
        if (name.isEmpty()) {
            return undeclared;
        }
        return switch (name.get()) {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            case "float32" -> DType.F32;
            default -> throw json.invalid(key, "is " + name.get() + "; supported: bfloat16, float16, float32");
        };
    }

    private static int positive(JsonFile json, String key) {
        int value = json.requiredInt(key);
        requirePositive(json, key, value);
        return value;
    }

    private static void requirePositive(JsonFile json, String key, int value) {
        if (value <= 0) {
            throw json.invalid(key, "must be positive, got " + value);
        }
    }
}
