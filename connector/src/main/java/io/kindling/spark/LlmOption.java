package io.kindling.spark;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import java.util.Locale;
import java.util.Optional;

/**
 * The options of {@code llm_generate}, as the catalogue spells them for Spark: a session setting
 * {@code spark.kindling.<camelName>} or a key of the call's map, where snake_case ({@code max_tokens}) is also read.
 */
final class LlmOption {

    static final String CONF_PREFIX = "spark.kindling.";

    private LlmOption() {
    }

    static String camelName(Option o) {
        return o.spelling(FrontEnd.SPARK).orElseThrow(() -> new IllegalArgumentException(
                o.snakeName() + " is not a Spark option: " + o.absentBecause(FrontEnd.SPARK).orElseThrow()));
    }

    static String confKey(Option o) {
        return CONF_PREFIX + camelName(o);
    }

    /** The option a map key names, whatever its case and underscores: {@code max_tokens} is {@code maxTokens}. */
    static Optional<Option> named(String key) {
        String folded = fold(key);
        return Option.of(FrontEnd.SPARK).stream().filter(o -> fold(camelName(o)).equals(folded)).findFirst();
    }

    private static String fold(String key) {
        return key.replace("_", "").toLowerCase(Locale.ROOT);
    }
}
