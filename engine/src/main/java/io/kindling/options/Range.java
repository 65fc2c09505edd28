package io.kindling.options;

/**
 * The valid values of a numeric option: an interval whose ends may be open or absent (null).
 *
 * @param text how the range reads in help and errors: {@code (0, 1]}, {@code >= 1}
 */
public record Range(Double min, boolean minOpen, Double max, boolean maxOpen, String text) {

    /** Any value; also the range of an option that is not a number. */
    static final Range ANY = new Range(null, false, null, false, "any");

    static Range atLeast(double min) {
        return new Range(min, false, null, false, ">= " + number(min));
    }

    /** An integer of at least 1: "positive", as the engine's limits are described. */
    static Range positiveInteger() {
        return new Range(1.0, false, null, false, "positive");
    }

    static Range positive() {
        return new Range(0.0, true, null, false, "> 0");
    }

    static Range closed(double min, double max) {
        return new Range(min, false, max, false, "[" + number(min) + ", " + number(max) + "]");
    }

    static Range openClosed(double min, double max) {
        return new Range(min, true, max, false, "(" + number(min) + ", " + number(max) + "]");
    }

    public boolean contains(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return false;
        }
        boolean aboveMin = min == null || (minOpen ? v > min : v >= min);
        boolean belowMax = max == null || (maxOpen ? v < max : v <= max);
        return aboveMin && belowMax;
    }

    private static String number(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
