package io.kindling.spark;

import java.util.Locale;
import java.util.Optional;

/**
 * An option of {@code llm_generate}: a session setting {@code spark.kindling.<name>} or a key of the call's options
 * map. Names are the CLI's flags in camelCase; map keys may also be spelled in snake_case ({@code max_tokens}).
 */
enum LlmOption {
    MODEL("model"),
    DEVICE("device"),
    MAX_TOKENS("maxTokens"),
    MIN_TOKENS("minTokens"),
    TEMPERATURE("temperature"),
    TOP_P("topP"),
    TOP_K("topK"),
    MIN_P("minP"),
    SEED("seed"),
    STOP("stop"),
    IGNORE_EOS("ignoreEos"),
    REPETITION_PENALTY("repetitionPenalty"),
    PRESENCE_PENALTY("presencePenalty"),
    FREQUENCY_PENALTY("frequencyPenalty"),
    N("n"),
    BEAM_WIDTH("beamWidth"),
    LENGTH_PENALTY("lengthPenalty"),
    EARLY_STOPPING("earlyStopping"),
    MAX_NUM_SEQS("maxNumSeqs"),
    MAX_NUM_BATCHED_TOKENS("maxNumBatchedTokens"),
    BLOCK_SIZE("blockSize"),
    KV_CACHE_MEMORY("kvCacheMemory"),
    THREADS("threads"),
    GPU_MEMORY_UTILIZATION("gpuMemoryUtilization"),
    ON_ERROR("onError"),
    KEY_COLUMN("keyColumn"),
    MAX_IN_FLIGHT("maxInFlight");

    static final String CONF_PREFIX = "spark.kindling.";

    private final String camelName;

    LlmOption(String camelName) {
        this.camelName = camelName;
    }

    String camelName() {
        return camelName;
    }

    String confKey() {
        return CONF_PREFIX + camelName;
    }

    /** The option a map key names, whatever its case and underscores: {@code max_tokens} is {@code maxTokens}. */
    static Optional<LlmOption> named(String key) {
        String folded = fold(key);
        for (LlmOption o : values()) {
            if (fold(o.camelName).equals(folded)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }

    private static String fold(String key) {
        return key.replace("_", "").toLowerCase(Locale.ROOT);
    }
}
