package io.kindling.core;

import io.kindling.backend.BatchLimits;
import java.nio.file.Path;

/**
 * Engine options, named as the CLI ({@code --max-num-seqs}) and Spark ({@code spark.kindling.maxNumSeqs}) name them.
 *
 * @param device {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param maxNumSeqs most sequences in one step; {@link BatchLimits#AUTO}: the device's default
 * @param maxNumBatchedTokens token budget of one step, longer prompts being prefilled in chunks;
 *     {@link BatchLimits#AUTO}: the device's default
 * @param blockSize token slots per KV block
 * @param kvCacheMemoryBytes KV cache budget in bytes; 0 = auto: on the CPU a quarter of the JVM's maximum heap less
 *     the weights, at most 1 GiB; on a GPU what {@code gpuMemoryUtilization} leaves after the weights and the
 *     activation peak; an automatic budget below one sequence of a full step fails with
 *     {@link KvCacheMemoryException}
 * @param numThreads CPU backend threads
 * @param enablePrefixCaching keep full KV blocks after use and share them among sequences that start with the
 *     same tokens (on by default)
 * @param gpuMemoryUtilization share of the GPU's memory the engine may use in all (weights, activations, KV cache)
 */
public record EngineConfig(Path model, String device, int maxNumSeqs, int maxNumBatchedTokens, int blockSize,
                           long kvCacheMemoryBytes, int numThreads, boolean enablePrefixCaching,
                           double gpuMemoryUtilization) {

    public static final int DEFAULT_MAX_NUM_SEQS = BatchLimits.AUTO;
    public static final int DEFAULT_MAX_NUM_BATCHED_TOKENS = BatchLimits.AUTO;
    public static final int DEFAULT_BLOCK_SIZE = 16;
    public static final long DEFAULT_KV_CACHE_MEMORY = 0;
    /** The automatic budget of a backend that has no opinion. */
    public static final long CPU_KV_CACHE_MEMORY = 1L << 30;
    public static final double DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
    public static final boolean DEFAULT_ENABLE_PREFIX_CACHING = true;

    public EngineConfig {
        new BatchLimits(maxNumSeqs, maxNumBatchedTokens); // checks them
        requirePositive(blockSize, "block_size");
        requirePositive(numThreads, "num_threads");
        if (kvCacheMemoryBytes < 0) {
            throw new IllegalArgumentException("kv_cache_memory must be positive (or 0 for auto), got "
                    + kvCacheMemoryBytes);
        }
        if (!(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1)) {
            throw new IllegalArgumentException("gpu_memory_utilization must be in (0, 1], got " + gpuMemoryUtilization);
        }
    }

    /** With prefix caching at its default, on. */
    public EngineConfig(Path model, String device, int maxNumSeqs, int maxNumBatchedTokens, int blockSize,
                        long kvCacheMemoryBytes, int numThreads) {
        this(model, device, maxNumSeqs, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes, numThreads,
                DEFAULT_ENABLE_PREFIX_CACHING, DEFAULT_GPU_MEMORY_UTILIZATION);
    }

    public static EngineConfig defaults(Path model) {
        return new EngineConfig(model, "auto", DEFAULT_MAX_NUM_SEQS, DEFAULT_MAX_NUM_BATCHED_TOKENS,
                DEFAULT_BLOCK_SIZE, DEFAULT_KV_CACHE_MEMORY, Runtime.getRuntime().availableProcessors(),
                DEFAULT_ENABLE_PREFIX_CACHING, DEFAULT_GPU_MEMORY_UTILIZATION);
    }

    public EngineConfig withDevice(String v) {
        return new EngineConfig(model, v, maxNumSeqs, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes, numThreads,
                enablePrefixCaching, gpuMemoryUtilization);
    }

    public EngineConfig withMaxNumSeqs(int v) {
        return new EngineConfig(model, device, v, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes, numThreads,
                enablePrefixCaching, gpuMemoryUtilization);
    }

    public EngineConfig withMaxNumBatchedTokens(int v) {
        return new EngineConfig(model, device, maxNumSeqs, v, blockSize, kvCacheMemoryBytes, numThreads,
                enablePrefixCaching, gpuMemoryUtilization);
    }

    public EngineConfig withBlockSize(int v) {
        return new EngineConfig(model, device, maxNumSeqs, maxNumBatchedTokens, v, kvCacheMemoryBytes, numThreads,
                enablePrefixCaching, gpuMemoryUtilization);
    }

    public EngineConfig withKvCacheMemoryBytes(long v) {
        return new EngineConfig(model, device, maxNumSeqs, maxNumBatchedTokens, blockSize, v, numThreads,
                enablePrefixCaching, gpuMemoryUtilization);
    }

    public EngineConfig withNumThreads(int v) {
        return new EngineConfig(model, device, maxNumSeqs, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes, v,
                enablePrefixCaching, gpuMemoryUtilization);
    }

    public EngineConfig withEnablePrefixCaching(boolean v) {
        return new EngineConfig(model, device, maxNumSeqs, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes,
                numThreads, v, gpuMemoryUtilization);
    }

    public EngineConfig withGpuMemoryUtilization(double v) {
        return new EngineConfig(model, device, maxNumSeqs, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes,
                numThreads, enablePrefixCaching, v);
    }

    private static void requirePositive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }
}
