package io.kindling.flink;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.runtime.OptionValues;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.flink.configuration.MemorySize;

/**
 * The options of one Kindling model or call, typed by the catalogue: a key is an option's Flink spelling
 * ({@code max-tokens}) or its snake name ({@code max_tokens}, as in Spark's map and the rows of the CLI). Each value
 * is parsed as the catalogue types it; a bad one fails naming the key as given.
 */
final class OptionReader extends OptionValues {

    /**
     * @param ignored keys that belong to Flink itself ({@code provider}), passed over
     * @throws InvalidKindlingOptionException on an unknown key, a key given twice or a null value
     */
    OptionReader(Map<String, String> options, List<String> ignored) {
        // sizes as Flink spells memory (512m, 2g, 64 mb)
        super(OptionReader::flinkName, MemorySize::parseBytes);
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (ignored.contains(e.getKey())) {
                continue;
            }
            Option o = named(e.getKey()).orElseThrow(() -> new InvalidKindlingOptionException("unknown option '"
                    + e.getKey() + "' (known: " + Option.of(FrontEnd.FLINK).stream().map(OptionReader::flinkName)
                    .collect(Collectors.joining(", ")) + ")"));
            if (e.getValue() == null) {
                throw InvalidKindlingOptionException.badValue(e.getKey(), "is null");
            }
            String earlier = put(o, e.getValue(), e.getKey());
            if (earlier != null) {
                throw new InvalidKindlingOptionException("option '" + flinkName(o) + "' is given twice ('"
                        + earlier + "' and '" + e.getKey() + "')");
            }
        }
    }

    static String flinkName(Option o) {
        return o.spelling(FrontEnd.FLINK).orElseThrow(() -> new IllegalArgumentException(o.snakeName()
                + " is not a Flink option: " + o.absentBecause(FrontEnd.FLINK).orElseThrow()));
    }

    static Optional<Option> named(String key) {
        String folded = key.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return Option.of(FrontEnd.FLINK).stream().filter(o -> flinkName(o).equals(folded)).findFirst();
    }
}
