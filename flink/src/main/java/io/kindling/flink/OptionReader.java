package io.kindling.flink;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.options.OptionType;
import io.kindling.sampling.EarlyStopping;
import java.util.Arrays;
import java.util.EnumMap;
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
final class OptionReader {

    private record Setting(String value, String key) {
    }

    private final Map<Option, Setting> settings = new EnumMap<>(Option.class);

    /**
     * @param ignored keys that belong to Flink itself ({@code provider}), passed over
     * @throws InvalidKindlingOptionException on an unknown key, a key given twice or a null value
     */
    OptionReader(Map<String, String> options, List<String> ignored) {
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
            Setting earlier = settings.put(o, new Setting(e.getValue(), e.getKey()));
            if (earlier != null) {
                throw new InvalidKindlingOptionException("option '" + flinkName(o) + "' is given twice ('"
                        + earlier.key() + "' and '" + e.getKey() + "')");
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

    /** The value as given: stop strings keep their spaces. */
    String raw(Option o) {
        Setting s = settings.get(o);
        return s == null ? null : s.value();
    }

    String value(Option o) {
        String v = raw(o);
        return v == null ? null : v.trim();
    }

    /** The key the option was given under, or its Flink name. */
    String key(Option o) {
        Setting s = settings.get(o);
        return s == null ? flinkName(o) : s.key();
    }

    InvalidKindlingOptionException bad(Option o, String problem) {
        return InvalidKindlingOptionException.badValue(key(o), problem + ", got '" + value(o) + "'");
    }

    private void expect(Option o, OptionType type) {
        if (o.type() != type) {
            throw new IllegalStateException(o.snakeName() + " is " + o.type() + ", read as " + type);
        }
    }

    /** Checks the catalogue's range for engine-wide options; sampling ranges are SamplingParams' own checks. */
    private <T extends Number> T inRange(Option o, T v) {
        if (!o.in(FrontEnd.ROW) && !o.range().contains(v.doubleValue())) {
            throw bad(o, "must be " + o.requirement());
        }
        return v;
    }

    Integer integer(Option o) {
        expect(o, OptionType.INT);
        String v = value(o);
        try {
            return v == null ? null : inRange(o, Integer.parseInt(v));
        } catch (NumberFormatException e) {
            throw bad(o, "must be an integer");
        }
    }

    int integer(Option o, int unset) {
        Integer v = integer(o);
        return v == null ? unset : v;
    }

    Long longValue(Option o) {
        expect(o, OptionType.LONG);
        String v = value(o);
        try {
            return v == null ? null : inRange(o, Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw bad(o, "must be an integer");
        }
    }

    Double decimal(Option o) {
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

    double decimal(Option o, double unset) {
        Double v = decimal(o);
        return v == null ? unset : v;
    }

    Boolean bool(Option o) {
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

    boolean bool(Option o, boolean unset) {
        Boolean v = bool(o);
        return v == null ? unset : v;
    }

    /** A size as Flink spells memory ({@code 512m}, {@code 2g}, {@code 64 mb}). */
    long size(Option o, long unset) {
        expect(o, OptionType.SIZE);
        String v = value(o);
        if (v == null) {
            return unset;
        }
        try {
            return inRange(o, MemorySize.parseBytes(v));
        } catch (IllegalArgumentException e) {
            throw bad(o, "must be a size such as 512m or 2g");
        }
    }

    /** One of the option's choices, in lower case. */
    String choice(Option o) {
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
    List<String> strings(Option o) {
        expect(o, OptionType.STRING_LIST);
        String v = raw(o);
        return v == null ? null : Arrays.stream(v.split(",")).filter(x -> !x.isEmpty()).toList();
    }

    List<Integer> integers(Option o) {
        expect(o, OptionType.INT_LIST);
        String v = value(o);
        try {
            return v == null ? null : Arrays.stream(v.split(",")).map(String::trim).filter(x -> !x.isEmpty())
                    .map(Integer::valueOf).toList();
        } catch (NumberFormatException e) {
            throw bad(o, "must be integers separated by commas");
        }
    }

    /** transformers' values: {@code true}, {@code false} or {@code never}. */
    EarlyStopping earlyStopping() {
        String v = choice(Option.EARLY_STOPPING);
        return v == null ? null : switch (v) {
            case "true" -> EarlyStopping.TRUE;
            case "false" -> EarlyStopping.FALSE;
            default -> EarlyStopping.NEVER;
        };
    }
}
