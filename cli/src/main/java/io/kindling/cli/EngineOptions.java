package io.kindling.cli;

import static io.kindling.options.Option.BLOCK_SIZE;
import static io.kindling.options.Option.DEVICE;
import static io.kindling.options.Option.GPU_MEMORY_UTILIZATION;
import static io.kindling.options.Option.MAX_NUM_BATCHED_TOKENS;
import static io.kindling.options.Option.MAX_NUM_SEQS;
import static io.kindling.options.Option.TENSOR_PARALLEL_SIZE;
import static io.kindling.options.Option.THREADS;

import io.kindling.backend.BatchLimits;
import io.kindling.core.EngineConfig;
import io.kindling.options.FrontEnd;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The engine flags shared by {@code generate} and {@code bench}; their help comes from the options catalogue. */
final class EngineOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH")
    Path model;

    @Option(names = "--device", paramLabel = "DEVICE")
    String device = "auto";

    @Option(names = "--max-num-seqs", paramLabel = "N")
    Integer maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", paramLabel = "N")
    Integer maxNumBatchedTokens;

    @Option(names = "--block-size", paramLabel = "N")
    int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;

    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", converter = ByteSize.class)
    long kvCacheMemory = EngineConfig.DEFAULT_KV_CACHE_MEMORY;

    @Option(names = "--gpu-memory-utilization", paramLabel = "F")
    double gpuMemoryUtilization = EngineConfig.DEFAULT_GPU_MEMORY_UTILIZATION;

    @Option(names = "--threads", paramLabel = "N")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = {"--enable-prefix-caching", "--prefix-caching"}, negatable = true, defaultValue = "true",
            fallbackValue = "true")
    boolean enablePrefixCaching = EngineConfig.DEFAULT_ENABLE_PREFIX_CACHING;

    @Option(names = "--tensor-parallel-size", paramLabel = "N")
    int tensorParallelSize = EngineConfig.DEFAULT_TENSOR_PARALLEL_SIZE;

    /** The engine configuration; a bad value is a usage error naming its flag. */
    EngineConfig config() {
        if (!DEVICE.isChoice(device)) {
            throw invalid(flag(DEVICE), "'" + device + "' is not " + DEVICE.validText());
        }
        if (maxNumSeqs != null) {
            check(MAX_NUM_SEQS, maxNumSeqs);
        }
        if (maxNumBatchedTokens != null) {
            check(MAX_NUM_BATCHED_TOKENS, maxNumBatchedTokens);
        }
        check(BLOCK_SIZE, blockSize);
        check(THREADS, threads);
        check(GPU_MEMORY_UTILIZATION, gpuMemoryUtilization);
        check(TENSOR_PARALLEL_SIZE, tensorParallelSize);
        return EngineConfig.builder(model).device(device).maxNumSeqs(orAuto(maxNumSeqs))
                .maxNumBatchedTokens(orAuto(maxNumBatchedTokens)).blockSize(blockSize)
                .kvCacheMemoryBytes(kvCacheMemory).numThreads(threads).gpuMemoryUtilization(gpuMemoryUtilization)
                .enablePrefixCaching(enablePrefixCaching).tensorParallelSize(tensorParallelSize).build();
    }

    /** The flag of an engine setting as {@link EngineConfig} names it: kv_cache_memory is --kv-cache-memory. */
    static String flag(String setting) {
        return "--" + setting.replace('_', '-');
    }

    void requirePositive(String flag, int value) {
        if (value <= 0) {
            throw invalid(flag, "must be positive, got " + value);
        }
    }

    /** The value against the catalogue's range for the option. */
    private void check(io.kindling.options.Option o, Number value) {
        if (!o.range().contains(value.doubleValue())) {
            throw invalid(flag(o), "must be " + o.requirement() + ", got " + value);
        }
    }

    private static String flag(io.kindling.options.Option o) {
        return o.spelling(FrontEnd.CLI).orElseThrow();
    }

    ParameterException invalid(String flag, String problem) {
        return new ParameterException(spec.commandLine(), "Invalid value for option '" + flag + "': " + problem);
    }

    private static int orAuto(Integer limit) {
        return limit == null ? BatchLimits.AUTO : limit;
    }
}
