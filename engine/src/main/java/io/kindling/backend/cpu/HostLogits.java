package io.kindling.backend.cpu;

import io.kindling.backend.Logits;
import java.util.Arrays;
import java.util.Objects;

/**
 * Logits already on the heap, as one row-major array; rows are copied out on request.
 *
 * @param values {@code [numRows][vocabSize]} row-major; kept, not copied
 */
public record HostLogits(float[] values, int numRows, int vocabSize) implements Logits {

    public HostLogits {
        Objects.requireNonNull(values, "values");
        if (numRows < 0 || vocabSize < 1 || (long) numRows * vocabSize != values.length) {
            throw new IllegalArgumentException("logits of " + values.length + " floats are not " + numRows
                    + " rows of vocab_size " + vocabSize);
        }
    }

    @Override
    public float[] row(int i) {
        Objects.checkIndex(i, numRows);
        return Arrays.copyOfRange(values, i * vocabSize, (i + 1) * vocabSize);
    }
}
