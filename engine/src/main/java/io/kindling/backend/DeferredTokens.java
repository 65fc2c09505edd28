package io.kindling.backend;

/**
 * The input tokens of a step whose ids the host does not know yet (asynchronous scheduling): token
 * {@code tokenIndices[i]} of the batch is the token that the sampler's last launch drew for its draw
 * {@code drawIndices[i]}. The backend takes them where that launch left them (on a GPU, its device results), so the
 * step is queued without waiting for the previous one's tokens; the batch holds 0 there until then.
 */
public record DeferredTokens(int[] tokenIndices, int[] drawIndices) {

    public static final DeferredTokens NONE = new DeferredTokens(new int[0], new int[0]);

    public DeferredTokens {
        if (tokenIndices.length != drawIndices.length) {
            throw new IllegalArgumentException(tokenIndices.length + " deferred tokens for " + drawIndices.length
                    + " draws");
        }
    }

    public int size() {
        return tokenIndices.length;
    }

    /** Writes each deferred token's id into {@code inputIds}, from the last launch's tokens by draw. */
    public void resolve(int[] tokensByDraw, int[] inputIds) {
        for (int i = 0; i < tokenIndices.length; i++) {
            inputIds[tokenIndices[i]] = tokensByDraw[drawIndices[i]];
        }
    }
}
