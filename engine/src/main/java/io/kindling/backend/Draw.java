package io.kindling.backend;

import io.kindling.sampling.SamplingState;
import java.util.Objects;

/**
 * Draw a token for {@code state} from logits row {@code row}. Several draws may name one row (a request forking into
 * its n samples); none sees another's penalties or masks.
 */
public record Draw(int row, SamplingState state) {

    public Draw {
        Objects.requireNonNull(state, "state");
        if (row < 0) {
            throw new IllegalArgumentException("logits row must be >= 0, got " + row);
        }
    }
}
