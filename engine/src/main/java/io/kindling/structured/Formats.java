package io.kindling.structured;

/** String formats cheap to express as bytes; each accepts only values a strict validator accepts. */
final class Formats {

    private Formats() {
    }

    private static Node regex(String pattern) {
        return RegexParser.parse(pattern);
    }

    /** {@code YYYY-MM-DD}: days a month always has (February to the 28th, so no leap-year arithmetic). */
    static final Node DATE = regex("[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)"
            + "|(0[13578]|1[02])-31)");
    /** RFC 3339 full-time: {@code hh:mm:ss}, optional fraction, {@code Z} or an offset within java.time's +-18:00. */
    static final Node TIME = regex("([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?"
            + "(Z|[+-](0[0-9]|1[0-7]):[0-5][0-9])");
    static final Node UUID = regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
}
