package io.kindling.backend;

/**
 * Runs the model. One instance per (model, device); the engine's thread alone calls it.
 * Implementations: {@code CpuBackend} (float32, here) and the CUDA backend in {@code kernels/}.
 */
public interface Backend extends AutoCloseable {

    /** Human-readable device, e.g. {@code cpu (2 threads)} or {@code cuda:0 (NVIDIA H100)}. */
    String device();

    /** Bytes one KV block of {@code blockSize} token slots takes, K and V of all layers together. */
    long kvCacheBytesPerBlock(int blockSize);

    /** Allocates the paged KV cache once, before the first {@link #forward}. */
    void allocateKvCache(int numBlocks, int blockSize);

    /**
     * Runs one step: writes the new tokens' K/V at their slots, attends causally through the block tables and
     * returns float32 logits {@code [logitsIndices.length][vocabSize]}.
     */
    float[][] forward(BatchInputs batch);

    @Override
    void close();
}
