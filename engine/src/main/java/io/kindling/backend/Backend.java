package io.kindling.backend;

import io.kindling.backend.BatchSampler;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Runs the model. One instance per (model, device); the engine's thread alone calls it.
 * Implementations: {@code CpuBackend} (float32, here) and the CUDA backend in {@code kernels/}.
 */
public interface Backend extends AutoCloseable {

    /** Human-readable device, e.g. {@code cpu (2 threads)} or {@code cuda:0 (NVIDIA H100)}. */
    String device();

    /** Bytes one KV block of {@code blockSize} token slots takes, K and V of all layers together. */
    long kvCacheBytesPerBlock(int blockSize);

    /**
     * The bytes the KV cache may take on this device when the engine's budget is auto: on a GPU, what the memory
     * share leaves after the weights and the measured activation peak; on the CPU, a share of the heap less the
     * weights. Empty: the engine's default.
     */
    default OptionalLong kvCacheBudgetBytes() {
        return OptionalLong.empty();
    }

    /**
     * The step limits that {@link BatchLimits#AUTO} stands for here; a GPU backend, which sizes its buffers for
     * them, returns the limits it was built for.
     */
    default BatchLimits batchLimits() {
        return BatchLimits.CPU;
    }

    /** Allocates the paged KV cache once, before the first {@link #forward}. */
    void allocateKvCache(int numBlocks, int blockSize);

    /**
     * Copies whole blocks, K and V of every layer: block {@code src[i]} into block {@code dst[i]}, in order. The
     * engine calls it before a {@link #forward} with the copy-on-write copies of that step (vLLM's
     * {@code blocks_to_copy}): a sequence about to append into a partly filled block that other sequences (parallel
     * samples, beams) still reference gets a private copy first. A GPU backend does this with one batched
     * device-side copy kernel over the block ids, on the stream that then runs the forward pass.
     */
    void copyBlocks(int[] src, int[] dst);

    /**
     * Runs one step: writes the new tokens' K/V at their slots, attends causally through the block tables and
     * returns float32 logits {@code [logitsIndices.length][vocabSize]}, left where they were computed.
     */
    Logits forward(BatchInputs batch);

    /**
     * Whether {@link #forward(BatchInputs, DeferredTokens)} takes input ids from the last sampling launch: then the
     * engine schedules step N + 1 before it has step N's tokens (asynchronous scheduling).
     */
    default boolean takesDeferredTokens() {
        return false;
    }

    /**
     * {@link #forward(BatchInputs)} with the ids of {@code deferred}'s tokens taken from the sampler's last
     * {@link BatchSampler#launch}, as they are there when the device gets to this step.
     *
     * @throws UnsupportedOperationException with deferred tokens, where {@link #takesDeferredTokens} is false
     */
    default Logits forward(BatchInputs batch, DeferredTokens deferred) {
        if (deferred.size() > 0) {
            throw new UnsupportedOperationException(device() + " does not take deferred input tokens");
        }
        return forward(batch);
    }

    /**
     * Asks the next forward pass to time each op family on the device ({@link StepProfile#gpuMillis}); that pass
     * runs its ops one by one, queued behind a wait long enough for all of them, so that host launch gaps do not
     * count. Returns false when this backend cannot.
     */
    default boolean profileNextStep() {
        return false;
    }

    /** What the last forward pass did; empty where the backend does not count it. */
    default Optional<StepProfile> lastStepProfile() {
        return Optional.empty();
    }

    /** Samples this backend's {@link Logits}: the CPU runs the {@code Sampler} over heap rows; a GPU samples on it. */
    BatchSampler sampler();

    @Override
    void close();
}
