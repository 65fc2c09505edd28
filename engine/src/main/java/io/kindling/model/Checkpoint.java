package io.kindling.model;

import java.nio.file.Path;

/** A Hugging Face checkpoint directory: its config, generation defaults and memory-mapped weights. */
public record Checkpoint(Path dir, ModelConfig config, GenerationConfig generationConfig, Weights weights)
        implements AutoCloseable {

    /** @throws ModelLoadException naming the file and the problem */
    public static Checkpoint open(Path dir) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void close() {
        weights.close();
    }
}
