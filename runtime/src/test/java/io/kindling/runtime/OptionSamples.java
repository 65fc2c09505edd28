package io.kindling.runtime;

import io.kindling.options.Option;
import io.kindling.options.Range;

/** Values of catalogue options for the front ends' catalogue tests. */
public final class OptionSamples {

    private OptionSamples() {
    }

    /** A valid value of the option that differs from its default. */
    public static String differentFromDefault(Option o) {
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
                // the last choice, its numbers filled in: cuda:N,M,... reads cuda:1,2
                yield text.substring(text.lastIndexOf(' ') + 1).replace(",M,...", ",2").replace("N", "1");
            }
            case SIZE -> "2m";
            case STRING, STRING_LIST -> "x";
            case INT_LIST -> "5";
        };
    }
}
