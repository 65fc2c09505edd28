package io.kindling.spark;

import io.kindling.backend.BatchLimits;
import io.kindling.core.EngineConfig;
import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.runtime.ChoiceOverrides;
import io.kindling.runtime.EngineKey;
import io.kindling.runtime.InvalidOptionException;
import io.kindling.runtime.ModelLocator;
import io.kindling.runtime.OptionValues;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingOverrides;
import io.kindling.sampling.SamplingParams;
import java.io.Serializable;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.network.util.JavaUtils;

/**
 * The validated options of one {@code llm_generate} call: the session's {@code spark.kindling.*} settings, overridden
 * by the call's own map. Resolved on the driver at analysis time and carried in the plan to the executors.
 *
 * @param choices {@code n} and beam search, which {@code SamplingOverrides} does not carry
 * @param maxInFlight how many rows of one task may wait on the engine at once (the task's window); {@link
 *                    BatchLimits#AUTO} for twice the engine's resolved {@code max_num_seqs}, known on the executor
 * @param keyColumn the column that names a row in error messages, or null (the prompt's first characters do)
 */
public record LlmOptions(EngineKey engine, SamplingOverrides sampling, ChoiceOverrides choices, OnError onError,
                         int maxInFlight, String keyColumn) implements Serializable {

    /** What a row the engine cannot serve turns into. */
    public enum OnError {
        /** The task fails with a message naming the row and its problem. */
        FAIL,
        /** The output is null (the struct variant carries the error). */
        NULL
    }

    /**
     * Resolves the options from the session configuration and the call's map.
     *
     * @param conf a session setting by key, null when unset
     * @param unsetOnError what a row error becomes when {@code onError} is not set: the struct variant has a field
     *     for it, the plain one fails the task
     * @throws InvalidLlmOptionException naming the first unknown key or bad value
     */
    static LlmOptions resolve(Function<String, String> conf, Map<String, String> call, OnError unsetOnError) {
        try {
            return resolve(conf, call, unsetOnError, new Settings());
        } catch (InvalidOptionException e) {
            throw InvalidLlmOptionException.of(e);
        }
    }

    private static LlmOptions resolve(Function<String, String> conf, Map<String, String> call, OnError unsetOnError,
                                      Settings s) {
        for (Option o : Option.of(FrontEnd.SPARK)) {
            String v = conf.apply(LlmOption.confKey(o));
            if (v != null) {
                s.put(o, v, LlmOption.confKey(o));
            }
        }
        Map<Option, String> fromCall = new EnumMap<>(Option.class);
        for (Map.Entry<String, String> e : call.entrySet()) {
            Option o = LlmOption.named(e.getKey()).orElseThrow(() -> new InvalidLlmOptionException(
                    "unknown option '" + e.getKey() + "' (known: " + knownNames() + ")"));
            String earlier = fromCall.put(o, e.getKey());
            if (earlier != null) {
                throw new InvalidLlmOptionException("option '" + LlmOption.camelName(o) + "' is given twice ('"
                        + earlier + "' and '" + e.getKey() + "')");
            }
            if (e.getValue() == null) {
                throw InvalidOptionException.badValue(e.getKey(), "is null");
            }
            s.put(o, e.getValue(), e.getKey());
        }
        String executorCores = conf.apply("spark.executor.cores");
        int defaultThreads = executorCores != null && executorCores.matches("\\d+") && Integer.parseInt(executorCores) > 0
                ? Integer.parseInt(executorCores) : Runtime.getRuntime().availableProcessors();

        int maxNumSeqs = s.integer(Option.MAX_NUM_SEQS, EngineConfig.DEFAULT_MAX_NUM_SEQS);
        EngineKey engine = new EngineKey(model(s), EngineConfig.builder(null).device(s.device())
                .maxNumSeqs(maxNumSeqs)
                .maxNumBatchedTokens(s.integer(Option.MAX_NUM_BATCHED_TOKENS,
                        EngineConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS))
                .blockSize(s.integer(Option.BLOCK_SIZE, EngineConfig.DEFAULT_BLOCK_SIZE))
                .kvCacheMemoryBytes(s.size(Option.KV_CACHE_MEMORY, EngineConfig.DEFAULT_KV_CACHE_MEMORY))
                .numThreads(s.integer(Option.THREADS, defaultThreads))
                .gpuMemoryUtilization(s.decimal(Option.GPU_MEMORY_UTILIZATION,
                        EngineConfig.DEFAULT_GPU_MEMORY_UTILIZATION))
                .enablePrefixCaching(s.bool(Option.ENABLE_PREFIX_CACHING,
                        EngineConfig.DEFAULT_ENABLE_PREFIX_CACHING))
                .tensorParallelSize(s.integer(Option.TENSOR_PARALLEL_SIZE, EngineConfig.DEFAULT_TENSOR_PARALLEL_SIZE))
                .build());
        SamplingOverrides sampling = s.samplingOverrides();
        ChoiceOverrides choices = new ChoiceOverrides(s.integer(Option.N), s.integer(Option.BEAM_WIDTH),
                s.decimal(Option.LENGTH_PENALTY), s.earlyStopping());
        s.checkSampling(sampling, choices);
        String keyColumn = s.value(Option.KEY_COLUMN);
        return new LlmOptions(engine, sampling, choices, s.onError(unsetOnError),
                s.integer(Option.MAX_IN_FLIGHT, maxNumSeqs == BatchLimits.AUTO ? BatchLimits.AUTO : 2 * maxNumSeqs),
                keyColumn == null || keyColumn.isEmpty() ? null : keyColumn);
    }

    /**
     * Whether a row may set this option from a column ({@code map('max_tokens', max_tokens)}): the sampling options a
     * JSONL row may set, less {@code n} and beam search, which shape the call's output (its {@code choices}).
     */
    public static boolean perRow(Option o) {
        return o.in(FrontEnd.ROW) && o.in(FrontEnd.SPARK)
                && !List.of(Option.N, Option.BEAM_WIDTH, Option.LENGTH_PENALTY, Option.EARLY_STOPPING).contains(o);
    }

    /**
     * A row's own sampling options over its call's parameters. A null value leaves the call's setting.
     *
     * @param row the row's options by the key its map gives them
     * @throws InvalidLlmOptionException naming the key and its problem (not an option a row may set, a bad value):
     *     the row's error
     */
    static SamplingParams rowParams(SamplingParams callParams, Map<String, String> row) {
        Settings s = new Settings();
        row.forEach((key, value) -> {
            Option o = LlmOption.named(key).filter(LlmOptions::perRow).orElseThrow(() -> new InvalidLlmOptionException(
                    "option '" + key + "' cannot be a row's own; a row may set " + Option.of(FrontEnd.SPARK).stream()
                            .filter(LlmOptions::perRow).map(LlmOption::camelName).collect(Collectors.joining(", "))));
            if (value != null) {
                s.put(o, value, key);
            }
        });
        try {
            return s.samplingOverrides().applyTo(callParams);
        } catch (InvalidSamplingParamException e) {
            throw InvalidLlmOptionException.of(s.invalid(e));
        } catch (InvalidOptionException e) {
            throw InvalidLlmOptionException.of(e);
        }
    }

    /**
     * A row's sampling parameters: the model's defaults with the options applied.
     *
     * @throws InvalidSamplingParamException naming the parameter, when the options do not fit the defaults
     */
    SamplingParams samplingParams(SamplingParams defaults) {
        return choices.applyTo(sampling.applyTo(defaults));
    }

    /** The sampling options set, as {@code maxTokens=8, n=2}: for plans. */
    String describeSampling() {
        String a = sampling.describe();
        String b = choices.describe();
        return a.isEmpty() || b.isEmpty() ? a + b : a + ", " + b;
    }

    /** The seed rows are seeded from (with the prompt): the configured one, or 0. */
    long configuredSeed() {
        return sampling.seed() == null ? 0 : sampling.seed();
    }

    /** The configured model, {@linkplain ModelLocator#absolute as executors find it}. */
    private static String model(Settings s) {
        String model = s.value(Option.MODEL);
        if (model == null || model.isBlank()) {
            throw new InvalidLlmOptionException("no model: set " + LlmOption.confKey(Option.MODEL)
                    + " (a local path or a Hadoop FileSystem URI such as hdfs://nn/models/m) or map('model', ...)");
        }
        return ModelLocator.absolute(model);
    }

    private static String knownNames() {
        return Option.of(FrontEnd.SPARK).stream().map(LlmOption::camelName).collect(Collectors.joining(", "));
    }

    /** The settings as given, each with the key it was given under (for messages), read as the catalogue types them. */
    private static final class Settings extends OptionValues {

        Settings() {
            super(LlmOption::camelName, JavaUtils::byteStringAsBytes);
        }

        String device() {
            String v = value(Option.DEVICE);
            if (v == null) {
                return "auto";
            }
            if (!Option.DEVICE.isChoice(v)) {
                throw bad(Option.DEVICE, "must be auto, cpu, cuda (the task's GPU), cuda:N or cuda:N,M,...");
            }
            return v;
        }

        OnError onError(OnError unset) {
            String v = choice(Option.ON_ERROR);
            if (v == null) {
                return unset;
            }
            return v.equals("fail") ? OnError.FAIL : OnError.NULL;
        }
    }
}
