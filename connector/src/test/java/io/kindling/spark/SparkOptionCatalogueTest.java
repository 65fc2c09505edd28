package io.kindling.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.options.OptionTables;
import io.kindling.options.Range;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Spark's front end against the options catalogue: every Spark option of the catalogue is read by
 * {@code LlmOptions} (setting it changes what a call resolves to), and {@code package-info.java}'s table is the
 * catalogue's. Spark's names come from the catalogue alone, so there is no Spark option outside it.
 */
class SparkOptionCatalogueTest {

    private static final Map<String, String> SESSION = Map.of("spark.kindling.model", "/m", "spark.executor.cores",
            "6");

    @Test
    void everySparkOptionOfTheCatalogueIsReadByLlmOptions() {
        for (Option o : Option.of(FrontEnd.SPARK)) {
            String camel = o.spelling(FrontEnd.SPARK).orElseThrow();
            assertEquals(Optional.of(o), LlmOption.named(o.snakeName()), "the Spark options: " + camel);
            Map<String, String> base = new HashMap<>();
            if (o == Option.LENGTH_PENALTY || o == Option.EARLY_STOPPING) {
                base.put("beamWidth", "2"); // they apply to beam search only
            }
            Map<String, String> set = new HashMap<>(base);
            set.put(camel, sample(o));
            assertNotEquals(LlmOptionsTest.resolve(SESSION, base), LlmOptionsTest.resolve(SESSION, set),
                    "the Spark options: " + camel + "=" + sample(o) + " is accepted but changes nothing");
        }
    }

    @Test
    void packageInfosTableIsTheCataloguesTable() throws IOException {
        String source = Files.readString(Path.of("src/main/java/io/kindling/spark/package-info.java"));
        int from = source.indexOf('\n', source.indexOf("<!-- options table")) + 1;
        int to = source.lastIndexOf('\n', source.indexOf("<!-- end of options table -->")) + 1;
        assertEquals(OptionTables.sparkJavadoc(), source.substring(from, to),
                "package-info.java's options table differs from the catalogue's (OptionTables.sparkJavadoc())");
    }

    /** A valid value of the option that differs from its default. */
    private static String sample(Option o) {
        if (o == Option.RESPONSE_FORMAT) {
            return "{\"type\": \"string\"}";
        }
        if (o == Option.GUIDED_CHOICE) {
            return "[\"a\", \"b\"]";
        }
        Range r = o.range();
        return switch (o.type()) {
            case INT, LONG -> String.valueOf(r.min() == null ? 7 : (long) (double) r.min() + 2);
            case DOUBLE -> String.valueOf(r.min() == null ? 0.5 : r.max() == null ? r.min() + 0.5
                    : (r.min() + r.max()) / 2);
            case BOOLEAN -> String.valueOf(!Boolean.parseBoolean(o.defaultText()));
            case CHOICE -> {
                String text = o.validText();
                yield text.substring(text.lastIndexOf(' ') + 1).replace("N", "1"); // the last choice
            }
            case SIZE -> "2m";
            case STRING, STRING_LIST -> "x";
            case INT_LIST -> "5";
        };
    }
}
