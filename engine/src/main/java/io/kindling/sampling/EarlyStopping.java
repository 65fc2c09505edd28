package io.kindling.sampling;

import java.util.Locale;

/**
 * When beam search stops, as transformers' {@code early_stopping}: {@code TRUE} once {@code beam_width} hypotheses
 * are finished; {@code FALSE} (the default) once, in addition, the best running beam scored at its current length
 * cannot beat the worst of them; {@code NEVER} the same, but scored at the longest length reachable when the length
 * penalty is positive (the canonical search, which stops only when no better hypothesis is possible).
 */
public enum EarlyStopping {
    TRUE,
    FALSE,
    NEVER;

    /** {@code true}, {@code false} or {@code "never"}, as transformers takes it. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
