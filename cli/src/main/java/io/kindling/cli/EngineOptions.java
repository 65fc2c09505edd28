package io.kindling.cli;

import io.kindling.backend.BatchLimits;
import io.kindling.core.EngineConfig;
import java.nio.file.Path;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The engine flags shared by {@code generate} and {@code bench}. */
final class EngineOptions {

    private static final Pattern DEVICE = Pattern.compile("auto|cpu|cuda|cuda:\\d+");

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json).")
    Path model;

    @Option(names = "--device", paramLabel = "DEVICE", description = "auto, cpu, cuda or cuda:N (default: auto).")
    String device = "auto";

    @Option(names = "--max-num-seqs", paramLabel = "N",
            description = "Most sequences in one step (default: 256 on the CPU and on a GPU under 70 GiB, 1024 on a "
                    + "larger GPU).")
    Integer maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", paramLabel = "N",
            description = "Token budget of one step; longer prompts are prefilled in chunks (default: 2048 on the "
                    + "CPU, 8192 on a GPU under 70 GiB, 16384 on a larger GPU).")
    Integer maxNumBatchedTokens;

    @Option(names = "--block-size", paramLabel = "N", description = "Tokens per KV cache block (default: 16).")
    int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;

    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", converter = ByteSize.class,
            description = "KV cache budget, e.g. 512m, 2g or 1073741824 bytes (default: 1g on the CPU; on a GPU "
                    + "what --gpu-memory-utilization leaves).")
    long kvCacheMemory = EngineConfig.DEFAULT_KV_CACHE_MEMORY;

    @Option(names = "--gpu-memory-utilization", paramLabel = "F",
            description = "Share of the GPU's memory for weights, activations and KV cache (default: 0.9).")
    double gpuMemoryUtilization = EngineConfig.DEFAULT_GPU_MEMORY_UTILIZATION;

    @Option(names = "--threads", paramLabel = "N", description = "CPU backend threads (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = {"--enable-prefix-caching", "--prefix-caching"}, negatable = true, defaultValue = "true",
            fallbackValue = "true",
            description = "Share the KV blocks of common prompt prefixes; --no-prefix-caching turns it off "
                    + "(default: on).")
    boolean enablePrefixCaching = EngineConfig.DEFAULT_ENABLE_PREFIX_CACHING;

    /** The engine configuration; a bad value is a usage error naming its flag. */
    EngineConfig config() {
        if (!DEVICE.matcher(device).matches()) {
            throw invalid("--device", "'" + device + "' is not auto, cpu, cuda or cuda:N");
        }
        if (maxNumSeqs != null) {
            requirePositive("--max-num-seqs", maxNumSeqs);
        }
        if (maxNumBatchedTokens != null) {
            requirePositive("--max-num-batched-tokens", maxNumBatchedTokens);
        }
        requirePositive("--block-size", blockSize);
        requirePositive("--threads", threads);
        if (!(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1)) {
            throw invalid("--gpu-memory-utilization", "must be in (0, 1], got " + gpuMemoryUtilization);
        }
        return EngineConfig.defaults(model).withDevice(device).withMaxNumSeqs(orAuto(maxNumSeqs))
                .withMaxNumBatchedTokens(orAuto(maxNumBatchedTokens)).withBlockSize(blockSize)
                .withKvCacheMemoryBytes(kvCacheMemory).withNumThreads(threads).withGpuMemoryUtilization(gpuMemoryUtilization)
                .withEnablePrefixCaching(enablePrefixCaching);
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

    ParameterException invalid(String flag, String problem) {
        return new ParameterException(spec.commandLine(), "Invalid value for option '" + flag + "': " + problem);
    }

    private static int orAuto(Integer limit) {
        return limit == null ? BatchLimits.AUTO : limit;
    }
}
