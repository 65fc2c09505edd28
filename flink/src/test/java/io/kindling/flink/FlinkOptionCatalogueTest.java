package io.kindling.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.runtime.OptionSamples;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;

/**
 * Flink's front end against the options catalogue: every Flink option is declared by the factories and read by
 * {@link KindlingOptions} (setting it changes what a model resolves to); nothing else is accepted.
 */
class FlinkOptionCatalogueTest {

    private static final Map<String, String> BASE = Map.of("model", "/m");

    @Test
    void everyFlinkOptionOfTheCatalogueIsReadByKindlingOptions() {
        for (Option o : Option.of(FrontEnd.FLINK)) {
            if (o == Option.MODEL) {
                continue;
            }
            String name = o.spelling(FrontEnd.FLINK).orElseThrow();
            assertEquals(Optional.of(o), OptionReader.named(name));
            assertEquals(Optional.of(o), OptionReader.named(o.snakeName()), "snake_case is read too: " + name);
            Map<String, String> base = new HashMap<>(BASE);
            if (o == Option.LENGTH_PENALTY || o == Option.EARLY_STOPPING) {
                base.put("beam-width", "2"); // they apply to beam search only
            }
            Map<String, String> set = new HashMap<>(base);
            set.put(name, OptionSamples.differentFromDefault(o));
            assertNotEquals(KindlingOptions.resolve(base), KindlingOptions.resolve(set),
                    "the Flink options: " + name + "=" + OptionSamples.differentFromDefault(o) + " is accepted but changes nothing");
        }
    }

    @Test
    void theFactoriesDeclareExactlyTheCataloguesFlinkOptions() {
        KindlingModelProviderFactory factory = new KindlingModelProviderFactory();
        String declared = Stream.concat(factory.requiredOptions().stream(),
                factory.optionalOptions().stream()).map(ConfigOption::key).sorted().collect(Collectors.joining(","));
        String catalogue = Option.of(FrontEnd.FLINK).stream().map(o -> o.spelling(FrontEnd.FLINK).orElseThrow())
                .sorted().collect(Collectors.joining(","));
        assertEquals(catalogue, declared);
        assertEquals(factory.optionalOptions(), new KindlingModuleFactory().optionalOptions());
    }

    @Test
    void unknownKeysAndBadValuesFailNamingThem() {
        Map<String, String> unknown = new HashMap<>(BASE);
        unknown.put("max-tokenz", "4");
        assertTrue(assertThrows(InvalidKindlingOptionException.class, () -> KindlingOptions.resolve(unknown))
                .getMessage().startsWith("unknown option 'max-tokenz' (known: model, device, max-tokens,"));
        Map<String, String> bad = new HashMap<>(BASE);
        bad.put("max_tokens", "0");
        assertEquals("option 'max_tokens' must be at least 1, got 0", assertThrows(InvalidKindlingOptionException.class,
                () -> KindlingOptions.resolve(bad)).getMessage());
        Map<String, String> beams = new HashMap<>(BASE);
        beams.put("beam-width", "2");
        beams.put("temperature", "0.5");
        assertEquals("option 'temperature' does not apply to beam search (beam-width > 0), which keeps the likeliest "
                + "beams rather than sampling: set it to 0, got '0.5'", assertThrows(InvalidKindlingOptionException.class,
                () -> KindlingOptions.resolve(beams)).getMessage());
    }
}
