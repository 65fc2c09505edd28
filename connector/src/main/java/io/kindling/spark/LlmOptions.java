package io.kindling.spark;

import io.kindling.backend.BatchLimits;
import io.kindling.core.EngineConfig;
import io.kindling.sampling.EarlyStopping;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingOverrides;
import io.kindling.sampling.SamplingParams;
import io.kindling.spark.runtime.EngineKey;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.spark.network.util.JavaUtils;

/**
 * The validated options of one {@code llm_generate} call: the session's {@code spark.kindling.*} settings, overridden
 * by the call's own map. Resolved on the driver at analysis time and carried in the plan to the executors.
 *
 * @param choices {@code n} and beam search, which {@code SamplingOverrides} does not carry
 * @param maxInFlight how many rows of one task may wait on the engine at once (the task's window)
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

    static final double DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;

    /**
     * Resolves the options from the session configuration and the call's map.
     *
     * @param conf a session setting by key, null when unset
     * @param unsetOnError what a row error becomes when {@code onError} is not set: the struct variant has a field
     *     for it, the plain one fails the task
     * @throws InvalidLlmOptionException naming the first unknown key or bad value
     */
    static LlmOptions resolve(Function<String, String> conf, Map<String, String> call, OnError unsetOnError) {
        Settings s = new Settings();
        for (LlmOption o : LlmOption.values()) {
            String v = conf.apply(o.confKey());
            if (v != null) {
                s.put(o, v, o.confKey());
            }
        }
        Map<LlmOption, String> fromCall = new EnumMap<>(LlmOption.class);
        for (Map.Entry<String, String> e : call.entrySet()) {
            LlmOption o = LlmOption.named(e.getKey()).orElseThrow(() -> new InvalidLlmOptionException(
                    "unknown option '" + e.getKey() + "' (known: " + knownNames() + ")"));
            String earlier = fromCall.put(o, e.getKey());
            if (earlier != null) {
                throw new InvalidLlmOptionException("option '" + o.camelName() + "' is given twice ('" + earlier
                        + "' and '" + e.getKey() + "')");
            }
            if (e.getValue() == null) {
                throw InvalidLlmOptionException.badValue(e.getKey(), "is null");
            }
            s.put(o, e.getValue(), e.getKey());
        }
        String executorCores = conf.apply("spark.executor.cores");
        int defaultThreads = executorCores != null && executorCores.matches("\\d+") && Integer.parseInt(executorCores) > 0
                ? Integer.parseInt(executorCores) : Runtime.getRuntime().availableProcessors();

        int maxNumSeqs = s.positiveInt(LlmOption.MAX_NUM_SEQS, EngineConfig.DEFAULT_MAX_NUM_SEQS);
        EngineKey engine = new EngineKey(model(s), s.device(), maxNumSeqs,
                s.positiveInt(LlmOption.MAX_NUM_BATCHED_TOKENS, EngineConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS),
                s.positiveInt(LlmOption.BLOCK_SIZE, EngineConfig.DEFAULT_BLOCK_SIZE),
                s.size(LlmOption.KV_CACHE_MEMORY, EngineConfig.DEFAULT_KV_CACHE_MEMORY),
                s.positiveInt(LlmOption.THREADS, defaultThreads),
                s.fraction(LlmOption.GPU_MEMORY_UTILIZATION, DEFAULT_GPU_MEMORY_UTILIZATION));
        SamplingOverrides sampling = new SamplingOverrides(s.integer(LlmOption.MAX_TOKENS),
                s.integer(LlmOption.MIN_TOKENS), s.decimal(LlmOption.TEMPERATURE), s.decimal(LlmOption.TOP_P),
                s.integer(LlmOption.TOP_K), s.decimal(LlmOption.MIN_P), s.longValue(LlmOption.SEED), s.stop(),
                s.bool(LlmOption.IGNORE_EOS), s.decimal(LlmOption.REPETITION_PENALTY),
                s.decimal(LlmOption.PRESENCE_PENALTY), s.decimal(LlmOption.FREQUENCY_PENALTY), null);
        ChoiceOverrides choices = new ChoiceOverrides(s.integer(LlmOption.N), s.integer(LlmOption.BEAM_WIDTH),
                s.decimal(LlmOption.LENGTH_PENALTY), s.earlyStopping());
        checkSampling(sampling, choices, s);
        String keyColumn = s.value(LlmOption.KEY_COLUMN);
        return new LlmOptions(engine, sampling, choices, s.onError(unsetOnError),
                s.positiveInt(LlmOption.MAX_IN_FLIGHT, 2 * (maxNumSeqs == BatchLimits.AUTO
                        ? BatchLimits.CPU.maxNumSeqs() : maxNumSeqs)),
                keyColumn == null || keyColumn.isEmpty() ? null : keyColumn);
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

    /**
     * Checks the sampling values against {@code SamplingParams}' own rules. The model's defaults are only known on
     * the executors, so {@code maxTokens} is taken as unbounded unless set: {@code minTokens} is then checked there.
     * Beyond those rules, an option that one search would silently ignore fails here: beam search keeps the likeliest
     * beams and samples nothing, and sampling has no use for the beam options.
     */
    private static void checkSampling(SamplingOverrides sampling, ChoiceOverrides choices, Settings s) {
        try {
            choices.applyTo(sampling.applyTo(SamplingParams.builder().maxTokens(Integer.MAX_VALUE).build()));
        } catch (InvalidSamplingParamException e) {
            throw s.invalid(e);
        }
        if (choices.beamSearch()) {
            notWithBeams(s, LlmOption.TEMPERATURE, sampling.temperature() != null && sampling.temperature() > 0, "0");
            notWithBeams(s, LlmOption.TOP_P, sampling.topP() != null && sampling.topP() < 1, "1");
            notWithBeams(s, LlmOption.TOP_K, sampling.topK() != null && sampling.topK() > 0, "0");
            notWithBeams(s, LlmOption.MIN_P, sampling.minP() != null && sampling.minP() > 0, "0");
        } else {
            for (LlmOption o : List.of(LlmOption.LENGTH_PENALTY, LlmOption.EARLY_STOPPING)) {
                if (s.value(o) != null) {
                    throw s.bad(o, "applies to beam search only, which needs " + LlmOption.BEAM_WIDTH.camelName()
                            + " > 0");
                }
            }
        }
    }

    private static void notWithBeams(Settings s, LlmOption o, boolean samples, String neutral) {
        if (samples) {
            throw s.bad(o, "does not apply to beam search (" + LlmOption.BEAM_WIDTH.camelName()
                    + " > 0), which keeps the likeliest beams rather than sampling: set it to " + neutral);
        }
    }

    /** A local path is made absolute (executors may run elsewhere); a URI ({@code hdfs:}, {@code s3a:}) is kept. */
    private static String model(Settings s) {
        String model = s.value(LlmOption.MODEL);
        if (model == null || model.isBlank()) {
            throw new InvalidLlmOptionException("no model: set " + LlmOption.MODEL.confKey()
                    + " (a local path or a Hadoop FileSystem URI such as hdfs://nn/models/m) or map('model', ...)");
        }
        try {
            if (new URI(model).getScheme() != null) {
                return model;
            }
        } catch (URISyntaxException e) {
            // Not a URI: a local path.
        }
        return Paths.get(model).toAbsolutePath().normalize().toString();
    }

    private static String knownNames() {
        return Arrays.stream(LlmOption.values()).map(LlmOption::camelName).collect(Collectors.joining(", "));
    }

    /** The raw settings, each with the key it was given under (for messages). */
    private static final class Settings {
        private record Setting(String value, String key) {
        }

        private final Map<LlmOption, Setting> settings = new EnumMap<>(LlmOption.class);

        void put(LlmOption o, String value, String key) {
            settings.put(o, new Setting(value, key));
        }

        /** The value as given: stop strings keep their spaces and newlines. */
        String raw(LlmOption o) {
            Setting s = settings.get(o);
            return s == null ? null : s.value();
        }

        String value(LlmOption o) {
            String v = raw(o);
            return v == null ? null : v.trim();
        }

        InvalidLlmOptionException invalid(InvalidSamplingParamException e) {
            LlmOption o = LlmOption.named(e.param()).orElseThrow(() -> e);
            Setting s = settings.get(o);
            String problem = e.getMessage().substring(("invalid " + e.param() + ": ").length());
            return InvalidLlmOptionException.badValue(s == null ? o.camelName() : s.key(), problem);
        }

        InvalidLlmOptionException bad(LlmOption o, String problem) {
            Setting s = settings.get(o);
            return InvalidLlmOptionException.badValue(s.key(), problem + ", got '" + s.value() + "'");
        }

        Integer integer(LlmOption o) {
            String v = value(o);
            if (v == null) {
                return null;
            }
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw bad(o, "must be an integer");
            }
        }

        int positiveInt(LlmOption o, int defaultValue) {
            Integer v = integer(o);
            if (v == null) {
                return defaultValue;
            }
            if (v <= 0) {
                throw bad(o, "must be positive");
            }
            return v;
        }

        Long longValue(LlmOption o) {
            String v = value(o);
            if (v == null) {
                return null;
            }
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw bad(o, "must be an integer");
            }
        }

        Double decimal(LlmOption o) {
            String v = value(o);
            if (v == null) {
                return null;
            }
            try {
                double d = Double.parseDouble(v);
                if (Double.isFinite(d)) {
                    return d;
                }
            } catch (NumberFormatException e) {
                // Reported below.
            }
            throw bad(o, "must be a number");
        }

        double fraction(LlmOption o, double defaultValue) {
            Double v = decimal(o);
            if (v == null) {
                return defaultValue;
            }
            if (v <= 0 || v > 1) {
                throw bad(o, "must be in (0, 1]");
            }
            return v;
        }

        Boolean bool(LlmOption o) {
            String v = value(o);
            if (v == null) {
                return null;
            }
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw bad(o, "must be true or false");
            };
        }

        long size(LlmOption o, long defaultValue) {
            String v = value(o);
            if (v == null) {
                return defaultValue;
            }
            long bytes;
            try {
                bytes = JavaUtils.byteStringAsBytes(v);
            } catch (NumberFormatException e) {
                throw bad(o, "must be a size such as 512m or 2g");
            }
            if (bytes <= 0) {
                throw bad(o, "must be positive");
            }
            return bytes;
        }

        String device() {
            String v = value(LlmOption.DEVICE);
            if (v == null) {
                return "auto";
            }
            if (!v.matches("auto|cpu|cuda|cuda:\\d+")) {
                throw bad(LlmOption.DEVICE, "must be auto, cpu, cuda (the task's GPU) or cuda:N");
            }
            return v;
        }

        /** Stop strings, comma-separated (a stop string cannot contain a comma); empty entries are dropped. */
        List<String> stop() {
            String v = raw(LlmOption.STOP);
            if (v == null) {
                return null;
            }
            return Arrays.stream(v.split(",")).filter(x -> !x.isEmpty()).toList();
        }

        /** transformers' values: {@code true}, {@code false} or {@code never}. */
        EarlyStopping earlyStopping() {
            String v = value(LlmOption.EARLY_STOPPING);
            if (v == null) {
                return null;
            }
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "true" -> EarlyStopping.TRUE;
                case "false" -> EarlyStopping.FALSE;
                case "never" -> EarlyStopping.NEVER;
                default -> throw bad(LlmOption.EARLY_STOPPING, "must be true, false or never");
            };
        }

        OnError onError(OnError unset) {
            String v = value(LlmOption.ON_ERROR);
            if (v == null) {
                return unset;
            }
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "fail" -> OnError.FAIL;
                case "null" -> OnError.NULL;
                default -> throw bad(LlmOption.ON_ERROR, "must be fail or null");
            };
        }
    }
}
