package io.kindling.backend;

import java.util.Arrays;

/** A checkpoint tensor whose shape disagrees with what {@code config.json} implies. */
public final class WeightShapeException extends RuntimeException {

    private final String tensor;

    public WeightShapeException(String tensor, long[] expected, long[] actual, String derivation) {
        super("tensor " + tensor + " has shape " + Arrays.toString(actual) + " but config.json implies "
                + Arrays.toString(expected) + " (" + derivation + ")");
        this.tensor = tensor;
    }

    public String tensor() {
        return tensor;
    }
}
