package io.kindling.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.options.OptionTables;
import io.kindling.runtime.OptionSamples;
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
            set.put(camel, OptionSamples.differentFromDefault(o));
            assertNotEquals(LlmOptionsTest.resolve(SESSION, base), LlmOptionsTest.resolve(SESSION, set),
                    "the Spark options: " + camel + "=" + OptionSamples.differentFromDefault(o) + " is accepted but changes nothing");
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
}
