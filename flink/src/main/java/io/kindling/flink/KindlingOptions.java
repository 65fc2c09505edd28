package io.kindling.flink;

import io.kindling.core.EngineConfig;
import io.kindling.options.Option;
import io.kindling.runtime.ChoiceOverrides;
import io.kindling.runtime.EngineKey;
import io.kindling.runtime.InvalidOptionException;
import io.kindling.runtime.ModelLocator;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingOverrides;
import io.kindling.sampling.SamplingParams;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * The validated options of a Kindling model ({@code CREATE MODEL ... WITH}) or of an {@code llm_generate} call,
 * resolved where the job is planned and carried to the TaskManagers.
 *
 * @param engine the engine's key: model, device and limits
 * @param choices completions per row ({@code n}), and beam search
 * @param failOnError whether a row the engine cannot serve fails the task ({@code on-error=fail}, the default)
 *     rather than giving null, when no {@code error} column takes its message
 */
record KindlingOptions(EngineKey engine, SamplingOverrides sampling, ChoiceOverrides choices, boolean failOnError)
        implements Serializable {

    /** Keys of a model's options that are Flink's, not Kindling's. */
    static final List<String> FLINK_KEYS = List.of("provider");

    /**
     * @throws InvalidKindlingOptionException naming the first unknown key or bad value
     */
    static KindlingOptions resolve(Map<String, String> options) {
        try {
            return resolve(new OptionReader(options, FLINK_KEYS));
        } catch (InvalidOptionException e) {
            throw new InvalidKindlingOptionException(e.getMessage());
        }
    }

    private static KindlingOptions resolve(OptionReader r) {
        EngineKey engine = new EngineKey(model(r), EngineConfig.builder(null).device(device(r))
                .maxNumSeqs(r.integer(Option.MAX_NUM_SEQS, EngineConfig.DEFAULT_MAX_NUM_SEQS))
                .maxNumBatchedTokens(r.integer(Option.MAX_NUM_BATCHED_TOKENS,
                        EngineConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS))
                .blockSize(r.integer(Option.BLOCK_SIZE, EngineConfig.DEFAULT_BLOCK_SIZE))
                .kvCacheMemoryBytes(r.size(Option.KV_CACHE_MEMORY, EngineConfig.DEFAULT_KV_CACHE_MEMORY))
                .numThreads(r.integer(Option.THREADS, Runtime.getRuntime().availableProcessors()))
                .gpuMemoryUtilization(r.decimal(Option.GPU_MEMORY_UTILIZATION,
                        EngineConfig.DEFAULT_GPU_MEMORY_UTILIZATION))
                .enablePrefixCaching(r.bool(Option.ENABLE_PREFIX_CACHING, EngineConfig.DEFAULT_ENABLE_PREFIX_CACHING))
                .tensorParallelSize(r.integer(Option.TENSOR_PARALLEL_SIZE, EngineConfig.DEFAULT_TENSOR_PARALLEL_SIZE))
                .build());
        SamplingOverrides sampling = r.samplingOverrides();
        String onError = r.choice(Option.ON_ERROR);
        KindlingOptions resolved = new KindlingOptions(engine, sampling, new ChoiceOverrides(r.integer(Option.N),
                r.integer(Option.BEAM_WIDTH), r.decimal(Option.LENGTH_PENALTY), r.earlyStopping()),
                onError == null || onError.equals("fail"));
        r.checkSampling(sampling, resolved.choices());
        return resolved;
    }

    boolean beamSearch() {
        return choices.beamSearch();
    }

    /**
     * A row's sampling parameters: the model's defaults ({@code generation_config.json}) with these options applied.
     * Beam search without {@code n} returns every beam.
     *
     * @throws InvalidSamplingParamException naming the parameter
     */
    SamplingParams samplingParams(SamplingParams defaults) {
        return choices.applyTo(sampling.applyTo(defaults));
    }

    /** The seed rows are seeded from (with the prompt), as in Spark: the configured one, or 0. */
    long configuredSeed() {
        return sampling.seed() == null ? 0 : sampling.seed();
    }

    /** The configured model, {@linkplain ModelLocator#absolute as TaskManagers find it}. */
    private static String model(OptionReader r) {
        String model = r.value(Option.MODEL);
        if (model == null || model.isBlank()) {
            throw new InvalidKindlingOptionException("no model: set 'model' to a checkpoint directory (a local path, "
                    + "or a Hadoop FileSystem URI such as hdfs://nn/models/m)");
        }
        return ModelLocator.absolute(model);
    }

    private static String device(OptionReader r) {
        String v = r.value(Option.DEVICE);
        if (v == null) {
            return "auto";
        }
        if (!Option.DEVICE.isChoice(v)) {
            throw r.bad(Option.DEVICE, "must be auto, cpu, cuda (the TaskManager's GPU), cuda:N or cuda:N,M,...");
        }
        return v;
    }
}
