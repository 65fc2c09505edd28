package io.kindling.runtime;

import io.kindling.sampling.EarlyStopping;
import io.kindling.sampling.SamplingParams;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * How many completions a row gets and how they are found, on top of the sampling overrides: {@code n} samples, or
 * beam search with {@code beamWidth} beams. Null means not set. Beam search without {@code n} returns every beam
 * ({@code n = beamWidth}), so that the struct variant's {@code choices} lists them all.
 */
public record ChoiceOverrides(Integer n, Integer beamWidth, Double lengthPenalty, EarlyStopping earlyStopping)
        implements Serializable {

    public boolean beamSearch() {
        return beamWidth != null && beamWidth > 0;
    }

    /** The options set, as {@code n=2, beamWidth=3}: for plans. */
    public String describe() {
        List<String> set = new ArrayList<>();
        if (n != null) {
            set.add("n=" + n);
        }
        if (beamWidth != null) {
            set.add("beamWidth=" + beamWidth);
        }
        if (lengthPenalty != null) {
            set.add("lengthPenalty=" + lengthPenalty);
        }
        if (earlyStopping != null) {
            set.add("earlyStopping=" + earlyStopping.wireName());
        }
        return String.join(", ", set);
    }

    /**
     * {@code params} with these options applied.
     *
     * @throws io.kindling.sampling.InvalidSamplingParamException naming the parameter
     */
    public SamplingParams applyTo(SamplingParams params) {
        SamplingParams.Builder b = params.toBuilder();
        if (beamWidth != null) {
            b.beamWidth(beamWidth);
        }
        if (n != null) {
            b.n(n);
        } else if (beamSearch()) {
            b.n(beamWidth);
        }
        if (lengthPenalty != null) {
            b.lengthPenalty(lengthPenalty);
        }
        if (earlyStopping != null) {
            b.earlyStopping(earlyStopping);
        }
        return b.build();
    }
}
