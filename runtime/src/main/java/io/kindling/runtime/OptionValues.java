package io.kindling.runtime;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.options.OptionType;
import io.kindling.sampling.EarlyStopping;
import io.kindling.sampling.InvalidSamplingParamException;
import io.kindling.sampling.SamplingOverrides;
import io.kindling.sampling.SamplingParams;
import io.kindling.structured.StructuredOutput;
import io.kindling.structured.StructuredOutputException;
import io.kindling.structured.StructuredOutputs;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * Options given as strings (Spark's settings and map, Flink's {@code WITH} options), read as the catalogue types
 * them. Each value keeps the key it was given under, so that a bad one is named as the user wrote it.
 */
public class OptionValues {

    private record Setting(String value, String key) {
    }

    private final Map<Option, Setting> settings = new EnumMap<>(Option.class);
    private final Function<Option, String> spelling;
    private final ToLongFunction<String> sizes;

    /**
     * @param spelling the front end's name of an option that was not given, for messages
     * @param sizes parses a size as the front end spells memory ({@code 512m}, {@code 2g}); a
     *     {@link RuntimeException} means it is not one
     */
    protected OptionValues(Function<Option, String> spelling, ToLongFunction<String> sizes) {
        this.spelling = spelling;
        this.sizes = sizes;
    }

    /** Records {@code value} for {@code o}; the earlier key it was given under, or null. */
    public String put(Option o, String value, String key) {
        Setting earlier = settings.put(o, new Setting(value, key));
        return earlier == null ? null : earlier.key();
    }

    /** The value as given: stop strings keep their spaces and newlines. */
    public String raw(Option o) {
        Setting s = settings.get(o);
        return s == null ? null : s.value();
    }

    public String value(Option o) {
        String v = raw(o);
        return v == null ? null : v.trim();
    }

    /** The key the option was given under, or the front end's name for it. */
    public String key(Option o) {
        Setting s = settings.get(o);
        return s == null ? spelling.apply(o) : s.key();
    }

    public InvalidOptionException bad(Option o, String problem) {
        return InvalidOptionException.badValue(key(o), problem + ", got '" + value(o) + "'");
    }

    /** Fails on a programming error: reading an option as another type than the catalogue gives it. */
    private static void expect(Option o, OptionType type) {
        if (o.type() != type) {
            throw new IllegalStateException(o.snakeName() + " is " + o.type() + ", read as " + type);
        }
    }

    /**
     * The catalogue's range, checked here for the engine's and the call's options; a sampling option's range is
     * {@code SamplingParams}' own rule, checked with the others where the front end builds its parameters.
     */
    private <T extends Number> T inRange(Option o, T v) {
        if (!o.in(FrontEnd.ROW) && !o.range().contains(v.doubleValue())) {
            throw bad(o, "must be " + o.requirement());
        }
        return v;
    }

    private Long whole(Option o, OptionType type) {
        expect(o, type);
        String v = value(o);
        if (v == null) {
            return null;
        }
        try {
            return type == OptionType.INT ? Integer.parseInt(v) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw bad(o, "must be an integer");
        }
    }

    public Integer integer(Option o) {
        Long v = whole(o, OptionType.INT);
        return v == null ? null : inRange(o, v.intValue());
    }

    public int integer(Option o, int unset) {
        Integer v = integer(o);
        return v == null ? unset : v;
    }

    public Long longValue(Option o) {
        Long v = whole(o, OptionType.LONG);
        return v == null ? null : inRange(o, v);
    }

    public Double decimal(Option o) {
        expect(o, OptionType.DOUBLE);
        String v = value(o);
        if (v == null) {
            return null;
        }
        try {
            double d = Double.parseDouble(v);
            if (Double.isFinite(d)) {
                return inRange(o, d);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(o, "must be a number");
    }

    public double decimal(Option o, double unset) {
        Double v = decimal(o);
        return v == null ? unset : v;
    }

    public Boolean bool(Option o) {
        expect(o, OptionType.BOOLEAN);
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

    public boolean bool(Option o, boolean unset) {
        Boolean v = bool(o);
        return v == null ? unset : v;
    }

    public long size(Option o, long unset) {
        expect(o, OptionType.SIZE);
        String v = value(o);
        if (v == null) {
            return unset;
        }
        long bytes;
        try {
            bytes = sizes.applyAsLong(v);
        } catch (RuntimeException e) {
            throw bad(o, "must be a size such as 512m or 2g");
        }
        return inRange(o, bytes);
    }

    /** One of the option's choices, in lower case. */
    public String choice(Option o) {
        expect(o, OptionType.CHOICE);
        String v = value(o);
        if (v == null) {
            return null;
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (!o.isChoice(lower)) {
            throw bad(o, "must be " + o.requirement());
        }
        return lower;
    }

    /** Strings separated by commas (a stop string cannot hold one); empty entries are dropped. */
    public List<String> strings(Option o) {
        expect(o, OptionType.STRING_LIST);
        String v = raw(o);
        return v == null ? null : Arrays.stream(v.split(",")).filter(x -> !x.isEmpty()).toList();
    }

    /** Integers separated by commas. */
    public List<Integer> integers(Option o) {
        expect(o, OptionType.INT_LIST);
        String v = value(o);
        if (v == null) {
            return null;
        }
        try {
            return Arrays.stream(v.split(",")).map(String::trim).filter(x -> !x.isEmpty()).map(Integer::valueOf)
                    .toList();
        } catch (NumberFormatException e) {
            throw bad(o, "must be integers separated by commas");
        }
    }

    /** The sampling options given, over a model's defaults or a call's parameters; null fields are not given. */
    public SamplingOverrides samplingOverrides() {
        return new SamplingOverrides(integer(Option.MAX_TOKENS), integer(Option.MIN_TOKENS),
                decimal(Option.TEMPERATURE), decimal(Option.TOP_P), integer(Option.TOP_K), decimal(Option.MIN_P),
                longValue(Option.SEED), strings(Option.STOP), integers(Option.STOP_TOKEN_IDS), bool(Option.IGNORE_EOS),
                decimal(Option.REPETITION_PENALTY), decimal(Option.PRESENCE_PENALTY),
                decimal(Option.FREQUENCY_PENALTY), null, structuredOutput());
    }

    /**
     * The constraint given: a JSON schema (or OpenAI's response_format object), a regular expression or a choice (a
     * JSON list), at most one; compiled later, on first use, but checked here.
     */
    public StructuredOutput structuredOutput() {
        List<Option> kinds = List.of(Option.RESPONSE_FORMAT, Option.GUIDED_REGEX, Option.GUIDED_CHOICE);
        List<Option> given = kinds.stream().filter(o -> raw(o) != null).toList();
        if (given.isEmpty()) {
            return null;
        }
        if (given.size() > 1) {
            throw new InvalidOptionException("options " + given.stream().map(o -> "'" + key(o) + "'")
                    .collect(Collectors.joining(" and ")) + " are two constraints; give at most one of "
                    + spelling.apply(kinds.get(0)) + ", " + spelling.apply(kinds.get(1)) + " or "
                    + spelling.apply(kinds.get(2)));
        }
        Option o = given.get(0);
        String v = raw(o);
        try {
            return StructuredOutputs.validated(o == Option.RESPONSE_FORMAT ? StructuredOutputs.responseFormat(v)
                    : o == Option.GUIDED_REGEX ? new StructuredOutput.Regex(v) : StructuredOutputs.choice(v));
        } catch (StructuredOutputException e) {
            throw InvalidOptionException.badValue(key(o), e.getMessage());
        }
    }

    /**
     * {@code SamplingParams}' own rules for the options given ({@code max_tokens} unbounded: the model's default is
     * known only where the engine runs), and no option the chosen search would ignore: sampling options with beam
     * search, beam options without it.
     *
     * @throws InvalidOptionException naming the option as given
     */
    public void checkSampling(SamplingOverrides sampling, ChoiceOverrides choices) {
        try {
            choices.applyTo(sampling.applyTo(SamplingParams.builder().maxTokens(Integer.MAX_VALUE).build()));
        } catch (InvalidSamplingParamException e) {
            throw invalid(e);
        }
        String beams = spelling.apply(Option.BEAM_WIDTH) + " > 0";
        if (choices.beamSearch()) {
            notWithBeams(Option.TEMPERATURE, sampling.temperature() != null && sampling.temperature() > 0, "0", beams);
            notWithBeams(Option.TOP_P, sampling.topP() != null && sampling.topP() < 1, "1", beams);
            notWithBeams(Option.TOP_K, sampling.topK() != null && sampling.topK() > 0, "0", beams);
            notWithBeams(Option.MIN_P, sampling.minP() != null && sampling.minP() > 0, "0", beams);
        } else {
            for (Option o : List.of(Option.LENGTH_PENALTY, Option.EARLY_STOPPING)) {
                if (value(o) != null) {
                    throw bad(o, "applies to beam search only, which needs " + beams);
                }
            }
        }
    }

    private void notWithBeams(Option o, boolean samples, String neutral, String beams) {
        if (samples) {
            throw bad(o, "does not apply to beam search (" + beams + "), which keeps the likeliest beams rather than "
                    + "sampling: set it to " + neutral);
        }
    }

    /** A parameter {@code SamplingParams} refused, named as the option was given. */
    public InvalidOptionException invalid(InvalidSamplingParamException e) {
        String key = Arrays.stream(Option.values()).filter(o -> o.snakeName().equals(e.param())).findFirst()
                .map(this::key).orElse(e.param());
        return InvalidOptionException.badValue(key, e.problem());
    }

    /** transformers' values: {@code true}, {@code false} or {@code never}. */
    public EarlyStopping earlyStopping() {
        String v = choice(Option.EARLY_STOPPING);
        return v == null ? null : switch (v) {
            case "true" -> EarlyStopping.TRUE;
            case "false" -> EarlyStopping.FALSE;
            default -> EarlyStopping.NEVER;
        };
    }
}
