package io.kindling.core;

import io.kindling.backend.BatchLimits;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * Engine options, named as the CLI ({@code --max-num-seqs}) and Spark ({@code spark.kindling.maxNumSeqs}) name them.
 *
 * @param device {@code auto}, {@code cpu}, {@code cuda}, {@code cuda:N} or {@code cuda:N,M,...} (a GPU a rank)
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
 * @param tensorParallelSize ranks the backend splits the model over (vLLM's {@code tensor_parallel_size}); 1: none
 */
// Serializable for Spark's plans, which carry it without a model (a Path is not serializable): see EngineKey.
public record EngineConfig(Path model, String device, int maxNumSeqs, int maxNumBatchedTokens, int blockSize,
                           long kvCacheMemoryBytes, int numThreads, boolean enablePrefixCaching,
                           double gpuMemoryUtilization, int tensorParallelSize) implements Serializable {

    public static final int DEFAULT_MAX_NUM_SEQS = BatchLimits.AUTO;
    public static final int DEFAULT_MAX_NUM_BATCHED_TOKENS = BatchLimits.AUTO;
    public static final int DEFAULT_BLOCK_SIZE = 16;
    public static final long DEFAULT_KV_CACHE_MEMORY = 0;
    /** The automatic budget of a backend that has no opinion. */
    public static final long CPU_KV_CACHE_MEMORY = 1L << 30;
    public static final double DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;
    public static final boolean DEFAULT_ENABLE_PREFIX_CACHING = true;
    public static final int DEFAULT_TENSOR_PARALLEL_SIZE = 1;

    public EngineConfig {
        new BatchLimits(maxNumSeqs, maxNumBatchedTokens); // checks them
        requirePositive(blockSize, "block_size");
        requirePositive(numThreads, "num_threads");
        requirePositive(tensorParallelSize, "tensor_parallel_size");
        if (kvCacheMemoryBytes < 0) {
            throw new IllegalArgumentException("kv_cache_memory must be positive (or 0 for auto), got "
                    + kvCacheMemoryBytes);
        }
        if (!(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1)) {
            throw new IllegalArgumentException("gpu_memory_utilization must be in (0, 1], got " + gpuMemoryUtilization);
        }
    }

    /** The defaults, with all cores for the CPU backend. */
    public static EngineConfig defaults(Path model) {
        return builder(model).build();
    }

    /** A builder at the defaults. */
    public static Builder builder(Path model) {
        return new Builder(model);
    }

    /** A builder holding this configuration. */
    public Builder toBuilder() {
        return new Builder(model).device(device).maxNumSeqs(maxNumSeqs).maxNumBatchedTokens(maxNumBatchedTokens)
                .blockSize(blockSize).kvCacheMemoryBytes(kvCacheMemoryBytes).numThreads(numThreads)
                .enablePrefixCaching(enablePrefixCaching).gpuMemoryUtilization(gpuMemoryUtilization)
                .tensorParallelSize(tensorParallelSize);
    }

    public EngineConfig withDevice(String v) {
        return toBuilder().device(v).build();
    }

    public EngineConfig withMaxNumSeqs(int v) {
        return toBuilder().maxNumSeqs(v).build();
    }

    public EngineConfig withMaxNumBatchedTokens(int v) {
        return toBuilder().maxNumBatchedTokens(v).build();
    }

    public EngineConfig withBlockSize(int v) {
        return toBuilder().blockSize(v).build();
    }

    public EngineConfig withKvCacheMemoryBytes(long v) {
        return toBuilder().kvCacheMemoryBytes(v).build();
    }

    public EngineConfig withNumThreads(int v) {
        return toBuilder().numThreads(v).build();
    }

    public EngineConfig withEnablePrefixCaching(boolean v) {
        return toBuilder().enablePrefixCaching(v).build();
    }

    public EngineConfig withGpuMemoryUtilization(double v) {
        return toBuilder().gpuMemoryUtilization(v).build();
    }

    public EngineConfig withTensorParallelSize(int v) {
        return toBuilder().tensorParallelSize(v).build();
    }

    /** Builds a configuration from the defaults; {@link #build} checks it. */
    public static final class Builder {
        private Path model;
        private String device = "auto";
        private int maxNumSeqs = DEFAULT_MAX_NUM_SEQS;
        private int maxNumBatchedTokens = DEFAULT_MAX_NUM_BATCHED_TOKENS;
        private int blockSize = DEFAULT_BLOCK_SIZE;
        private long kvCacheMemoryBytes = DEFAULT_KV_CACHE_MEMORY;
        private int numThreads = Runtime.getRuntime().availableProcessors();
        private boolean enablePrefixCaching = DEFAULT_ENABLE_PREFIX_CACHING;
        private double gpuMemoryUtilization = DEFAULT_GPU_MEMORY_UTILIZATION;
        private int tensorParallelSize = DEFAULT_TENSOR_PARALLEL_SIZE;

        private Builder(Path model) {
            this.model = model;
        }

        public Builder model(Path v) {
            model = v;
            return this;
        }

        public Builder device(String v) {
            device = v;
            return this;
        }

        public Builder maxNumSeqs(int v) {
            maxNumSeqs = v;
            return this;
        }

        public Builder maxNumBatchedTokens(int v) {
            maxNumBatchedTokens = v;
            return this;
        }

        public Builder blockSize(int v) {
            blockSize = v;
            return this;
        }

        public Builder kvCacheMemoryBytes(long v) {
            kvCacheMemoryBytes = v;
            return this;
        }

        public Builder numThreads(int v) {
            numThreads = v;
            return this;
        }

        public Builder enablePrefixCaching(boolean v) {
            enablePrefixCaching = v;
            return this;
        }

        public Builder gpuMemoryUtilization(double v) {
            gpuMemoryUtilization = v;
            return this;
        }

        public Builder tensorParallelSize(int v) {
            tensorParallelSize = v;
            return this;
        }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException naming the setting that is out of range
         */
        public EngineConfig build() {
            return new EngineConfig(model, device, maxNumSeqs, maxNumBatchedTokens, blockSize, kvCacheMemoryBytes,
                    numThreads, enablePrefixCaching, gpuMemoryUtilization, tensorParallelSize);
        }
    }

    private static void requirePositive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }
}
