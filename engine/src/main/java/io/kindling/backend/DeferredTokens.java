package io.kindling.backend;

import java.util.Arrays;

/**
 * The input tokens of a step whose ids the host does not know yet (asynchronous scheduling): token
 * {@code tokenIndices[i]} of the batch is the token that the sampler's last launch drew for its draw
 * {@code drawIndices[i]}. The backend takes them where that launch left them (on a GPU, its device results), so the
 * step is queued without waiting for the previous one's tokens; the batch holds 0 there until then.
 *
 * <p>As {@link BatchInputs}, the engine refills one instance step after step: its arrays may be longer than
 * {@link #size}, grow only when a step exceeds them, and are read during a {@code forward} call only.
 */
public final class DeferredTokens {

    /** No deferred tokens; shared, so never added to. */
    public static final DeferredTokens NONE = new DeferredTokens();

    private int[] tokenIndices = new int[0];
    private int[] drawIndices = new int[0];
    private int size;

    public int size() {
        return size;
    }

    /** {@code [size]} of an array that may be longer. */
    public int[] tokenIndices() {
        return tokenIndices;
    }

    /** {@code [size]} of an array that may be longer. */
    public int[] drawIndices() {
        return drawIndices;
    }

    /** Empties this for the next step, keeping its arrays. */
    public void clear() {
        size = 0;
    }

    /** Defers token {@code tokenIndex} of the batch to the last launch's draw {@code drawIndex}. */
    public void add(int tokenIndex, int drawIndex) {
        if (this == NONE) {
            throw new UnsupportedOperationException("DeferredTokens.NONE is shared: add to an instance of your own");
        }
        if (size == tokenIndices.length) {
            int capacity = Math.max(1, 2 * size);
            tokenIndices = Arrays.copyOf(tokenIndices, capacity);
            drawIndices = Arrays.copyOf(drawIndices, capacity);
        }
        tokenIndices[size] = tokenIndex;
        drawIndices[size++] = drawIndex;
    }

    /** Writes each deferred token's id into {@code inputIds}, from the last launch's tokens by draw. */
    public void resolve(int[] tokensByDraw, int[] inputIds) {
        for (int i = 0; i < size; i++) {
            inputIds[tokenIndices[i]] = tokensByDraw[drawIndices[i]];
        }
    }
}
