package io.kindling.model;

import java.nio.file.Files;
import java.nio.file.Path;

/** A Hugging Face checkpoint directory: its config, generation defaults and memory-mapped weights. */
public record Checkpoint(Path dir, ModelConfig config, GenerationConfig generationConfig, Weights weights)
        implements AutoCloseable {

    private static final String EMBEDDING = "model.embed_tokens.weight";

    /**
     * Opens {@code config.json}, the safetensors weights (checked against the tensors the config implies) and the
     * optional {@code generation_config.json}.
     *
     * @throws ModelLoadException naming the file and the problem
     */
    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException(dir, "not a checkpoint directory");
        }
        SafetensorsWeights weights = SafetensorsWeights.open(dir);
        try {
            // A config without torch_dtype/dtype describes weights stored as they are.
            DType stored = weights.contains(EMBEDDING) ? weights.info(EMBEDDING).dtype() : DType.F32;
            ModelConfig config = ModelConfigParser.parse(dir.resolve("config.json"), stored);
            ExpectedTensors.verify(config, weights);
            GenerationConfig generation = GenerationConfig.read(dir.resolve("generation_config.json"));
            return new Checkpoint(dir, config, generation, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /**
     * A checkpoint of the shape a {@code config.json} describes with seeded {@link RandomWeights}, for benchmarks:
     * {@code model} is that file or a directory holding it; weight and tokenizer files there are not read.
     *
     * @throws ModelLoadException naming the file and the problem
     */
    public static Checkpoint withRandomWeights(Path model, long seed) {
        Path configFile = Files.isDirectory(model) ? model.resolve("config.json") : model;
        Path dir = configFile.toAbsolutePath().getParent();
        ModelConfig config = ModelConfigParser.parse(configFile, DType.BF16);
        GenerationConfig generation = GenerationConfig.read(dir.resolve("generation_config.json"));
        return new Checkpoint(dir, config, generation, RandomWeights.of(configFile, config, seed));
    }

    @Override
    public void close() {
        weights.close();
    }
}
