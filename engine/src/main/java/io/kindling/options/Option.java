package io.kindling.options;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Every user-facing option of Kindling, declared once. The name is the snake_case spelling (a row's field, a key of
 * Spark's map); each front end spells it by one rule ({@link #spelling}) unless the option says why that front end
 * lacks it. The CLI, the row parser, the Spark options and the option tables are checked against this list by
 * {@code OptionCatalogueTest}s, so a new option that a front end misses fails a test naming that front end.
 */
public enum Option {
    // The model and where it runs: one engine serves many rows, so neither is a row's field.
    MODEL(OptionType.STRING, "required", Range.ANY,
            "Hugging Face checkpoint directory; in Spark also a Hadoop FileSystem URI (hdfs:, s3a:).",
            engineWide()),
    DEVICE(OptionType.CHOICE, "auto", "auto|cpu|cuda|cuda:\\d+|cuda:\\d+(,\\d+)+",
            "auto, cpu, cuda, cuda:N, or cuda:N,M,... (one GPU a tensor-parallel rank); in Spark cuda is the task's "
                    + "GPU.", engineWide()),
    // Sampling: over the model's generation_config.json, then the run's settings, then the row's own field.
    MAX_TOKENS(OptionType.INT, "16, or the model's generation_config.json", Range.atLeast(1),
            "Most tokens to generate per row."),
    MIN_TOKENS(OptionType.INT, "0", Range.atLeast(0), "Fewest tokens to generate before a stop may end the row.",
            rowOnly()),
    TEMPERATURE(OptionType.DOUBLE, "1, or the model's generation_config.json", Range.atLeast(0), "0 is greedy."),
    TOP_P(OptionType.DOUBLE, "1", Range.openClosed(0, 1), "Nucleus sampling mass."),
    TOP_K(OptionType.INT, "0 (all)", Range.atLeast(-1), "Sample among the K most likely tokens; 0 or -1: all."),
    MIN_P(OptionType.DOUBLE, "0", Range.closed(0, 1), "Drop tokens below this share of the top probability."),
    SEED(OptionType.LONG, "none; in Spark 0 (mixed with the prompt)", Range.ANY, "Seed of each row's own generator."),
    STOP(OptionType.STRING_LIST, "none", Range.ANY,
            "Strings that end the row (not returned); in Spark comma-separated.", rowOnly()),
    STOP_TOKEN_IDS(OptionType.INT_LIST, "none", Range.ANY,
            "Token ids that end the row (returned); in Spark comma-separated.", rowOnly()),
    IGNORE_EOS(OptionType.BOOLEAN, "false", Range.ANY, "Keep generating past the end-of-sequence token.", rowOnly()),
    LOGPROBS(OptionType.INT, "none", Range.closed(0, 20), "Return the top-K logprobs of each generated token.",
            new Absent(FrontEnd.SPARK, "llm_generate returns text and llm_generate_struct has no logprobs field"),
            new Absent(FrontEnd.FLINK, "a model's OUTPUT and llm_generate have no logprobs field")),
    N(OptionType.INT, "1; with beam search, beam_width", Range.atLeast(1),
            "Completions per row: samples, or the best beams.", rowOnly()),
    REPETITION_PENALTY(OptionType.DOUBLE, "1", Range.positive(), "Divide the logits of tokens already seen.",
            rowOnly()),
    PRESENCE_PENALTY(OptionType.DOUBLE, "0", Range.closed(-2, 2), "Subtract from tokens already generated.",
            rowOnly()),
    FREQUENCY_PENALTY(OptionType.DOUBLE, "0", Range.closed(-2, 2),
            "Subtract, per occurrence, from tokens already generated.", rowOnly()),
    BEAM_WIDTH(OptionType.INT, "0 (no beam search)", Range.atLeast(0), "Beams of a beam search.", rowOnly()),
    LENGTH_PENALTY(OptionType.DOUBLE, "1", Range.ANY,
            "A finished beam scores cumulative_logprob / completion_tokens ^ length_penalty.", rowOnly()),
    EARLY_STOPPING(OptionType.CHOICE, "false", "true|false|never", "When beam search stops, as in transformers.",
            rowOnly()),
    // Structured output: at most one of these per row.
    RESPONSE_FORMAT(OptionType.STRING, "none", Range.ANY,
            "The output is JSON of this schema: {\"type\": \"json_schema\", \"json_schema\": {\"schema\": ...}} or"
                    + " {\"type\": \"json_object\"} as OpenAI spells it, or the JSON schema itself; in Spark as text.",
            rowOnly(), notInFlinkYet()),
    GUIDED_REGEX(OptionType.STRING, "none", Range.ANY,
            "The output fully matches this regular expression (java.util.regex syntax without look-around or"
                    + " back-references).", rowOnly(), notInFlinkYet()),
    GUIDED_CHOICE(OptionType.STRING_LIST, "none", Range.ANY,
            "The output is exactly one of these strings; in Spark a JSON list.", rowOnly(),
            notInFlinkYet()),

    // The engine's limits: engine-wide too.
    MAX_NUM_SEQS(OptionType.INT, "auto: 256, 1024 on a GPU of 70 GiB or more", Range.positiveInteger(),
            "Most sequences in one step.", engineWide()),
    MAX_NUM_BATCHED_TOKENS(OptionType.INT, "auto: 2048 on the CPU, 8192 on a GPU, 16384 on one of 70 GiB or more",
            Range.positiveInteger(), "Token budget of one step; longer prompts are prefilled in chunks.", engineWide()),
    BLOCK_SIZE(OptionType.INT, "16", Range.positiveInteger(), "Tokens per KV cache block.", engineWide()),
    KV_CACHE_MEMORY(OptionType.SIZE, "auto", Range.positive(),
            "KV cache budget (512m, 2g); auto: on the CPU a quarter of the heap less the weights, at most 1g, on a GPU"
                    + " what gpu_memory_utilization leaves.", engineWide()),
    GPU_MEMORY_UTILIZATION(OptionType.DOUBLE, "0.9", Range.openClosed(0, 1),
            "Share of the GPU's memory for weights, activations and KV cache.", engineWide()),
    THREADS(OptionType.INT, "all cores; in Spark the executor's cores", Range.positiveInteger(), "CPU backend threads.",
            engineWide()),
    ENABLE_PREFIX_CACHING(OptionType.BOOLEAN, "true", Range.ANY,
            "Share the KV blocks of common prompt prefixes.", engineWide()),
    TENSOR_PARALLEL_SIZE(OptionType.INT, "1", Range.positiveInteger(),
            "Ranks one engine splits the model over (Megatron-style, by heads, MLP features and vocabulary); it must"
                    + " divide num_attention_heads, num_key_value_heads and intermediate_size. On CUDA one GPU a rank:"
                    + " cuda takes the first N (in Spark the task's).",
            engineWide()),

    // A Spark call's own behaviour (and a Flink model's or function's).
    ON_ERROR(OptionType.CHOICE, "fail; null for llm_generate_struct", "fail|null",
            "What a row the engine cannot serve becomes: a failed task, or null.", callWide(),
            new Absent(FrontEnd.CLI, "generate always writes an error row and goes on")),
    KEY_COLUMN(OptionType.STRING, "none: the row's position and first 40 characters", Range.ANY,
            "The input column that names a row in error messages.", callWide(),
            new Absent(FrontEnd.CLI, "a row is named by its line and echoes its own id"),
            new Absent(FrontEnd.FLINK, "a row is named by its subtask and the start of its prompt")),
    MAX_IN_FLIGHT(OptionType.INT, "2 x the engine's max_num_seqs (512 on the CPU, 2,048 on a large GPU)",
            Range.positiveInteger(),
            "Rows of one task waiting on the engine at once.", callWide(),
            new Absent(FrontEnd.CLI, "generate's one reader keeps the engine fed by itself"),
            new Absent(FrontEnd.FLINK, "Flink's async operator bounds it: "
                    + "table.exec.async-ml-predict.max-concurrent-operations (async-scalar for llm_generate)"));

    private final OptionType type;
    private final String defaultText;
    private final Range range;
    private final Pattern choices;
    private final String help;
    private final Map<FrontEnd, String> absentBecause;

    Option(OptionType type, String defaultText, Range range, String help, Absent... absent) {
        this(type, defaultText, range, null, help, absent);
    }

    Option(OptionType type, String defaultText, String choices, String help, Absent... absent) {
        this(type, defaultText, Range.ANY, Pattern.compile(choices), help, absent);
    }

    Option(OptionType type, String defaultText, Range range, Pattern choices, String help, Absent... absent) {
        this.type = type;
        this.defaultText = defaultText;
        this.range = range;
        this.choices = choices;
        this.help = help;
        Map<FrontEnd, String> reasons = new EnumMap<>(FrontEnd.class);
        for (Absent a : absent) {
            reasons.put(a.frontEnd(), a.reason());
        }
        this.absentBecause = Collections.unmodifiableMap(reasons);
    }

    public OptionType type() {
        return type;
    }

    public String defaultText() {
        return defaultText;
    }

    /** The valid numbers ({@link Range#ANY} for other types; a size is checked as its byte count). */
    public Range range() {
        return range;
    }

    /** The valid values, as help reads them: {@code true, false or never}; the range for numbers. */
    public String validText() {
        if (choices == null) {
            return switch (type) {
                case BOOLEAN -> "true or false";
                case STRING -> "text";
                case STRING_LIST -> "strings";
                case INT_LIST -> "integers";
                case SIZE -> "a size " + range.text();
                default -> range == Range.ANY ? "any " + (type == OptionType.DOUBLE ? "number" : "integer")
                        : range.text();
            };
        }
        // cuda:\d+(,\d+)+ reads cuda:N,M,...
        String[] values = choices.pattern().replace("(,\\d+)+", ",M,...").replace("\\d+", "N").split("\\|");
        return String.join(", ", Arrays.copyOf(values, values.length - 1)) + " or " + values[values.length - 1];
    }

    /** What a valid value is, for an error message after "must be": {@code in (0, 1]}, {@code >= 1}. */
    public String requirement() {
        boolean interval = choices == null && type != OptionType.SIZE && range.min() != null && range.max() != null;
        return interval ? "in " + validText() : validText();
    }

    /** Whether a value is one of a {@link OptionType#CHOICE} option's choices (exactly, lower case). */
    public boolean isChoice(String value) {
        return choices != null && choices.matcher(value).matches();
    }

    public String help() {
        return help;
    }

    /** The snake_case name: a row's field, a key of Spark's map. */
    public String snakeName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the front end takes this option; else {@link #absentBecause} says why not. */
    public boolean in(FrontEnd frontEnd) {
        return !absentBecause.containsKey(frontEnd);
    }

    /** Why the front end lacks this option, if it does. */
    public Optional<String> absentBecause(FrontEnd frontEnd) {
        return Optional.ofNullable(absentBecause.get(frontEnd));
    }

    /**
     * The option as the front end spells it: {@code max_tokens}, {@code --max-tokens}, {@code maxTokens} (after
     * {@code spark.kindling.}), {@code max-tokens}; empty where the front end lacks it.
     */
    public Optional<String> spelling(FrontEnd frontEnd) {
        if (!in(frontEnd)) {
            return Optional.empty();
        }
        String snake = snakeName();
        return Optional.of(switch (frontEnd) {
            case ROW -> snake;
            case CLI -> "--" + snake.replace('_', '-');
            case SPARK -> camel(snake);
            case FLINK -> snake.replace('_', '-');
        });
    }

    /** The options a front end takes, in declaration order. */
    public static java.util.List<Option> of(FrontEnd frontEnd) {
        return Arrays.stream(values()).filter(o -> o.in(frontEnd)).collect(Collectors.toUnmodifiableList());
    }

    /** The option a front end spells so, if any. */
    public static Optional<Option> spelled(FrontEnd frontEnd, String spelling) {
        return Arrays.stream(values()).filter(o -> o.spelling(frontEnd).filter(spelling::equals).isPresent())
                .findFirst();
    }

    private static String camel(String snake) {
        StringBuilder b = new StringBuilder();
        boolean upper = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                b.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return b.toString();
    }

    private static Absent engineWide() {
        return new Absent(FrontEnd.ROW, "one engine serves every row of a run");
    }

    private static Absent callWide() {
        return new Absent(FrontEnd.ROW, "it applies to a whole call, not one row");
    }

    /** Structured output in Flink belongs to the model's OUTPUT schema, which the Flink connector does not read yet. */
    private static Absent notInFlinkYet() {
        return new Absent(FrontEnd.FLINK, "not in Flink yet: there a constraint would come from the model's OUTPUT "
                + "schema");
    }

    private static Absent rowOnly() {
        return new Absent(FrontEnd.CLI, "set per row in the input; no run-wide flag");
    }

    /** A front end that lacks an option, and why. */
    private record Absent(FrontEnd frontEnd, String reason) {
    }
}
