package io.kindling.backend.cpu;

/** The MLP's activation. Public as the CPU twin the CUDA kernel is checked against. */
public final class Activation {

    private Activation() {
    }

    /** {@code dst[to + i] = silu(gateUp[from + i]) * gateUp[from + width + i]} for the {@code width} pairs of a row. */
    public static void siluAndMultiply(float[] gateUp, int from, float[] dst, int to, int width) {
        for (int i = 0; i < width; i++) {
            float g = gateUp[from + i];
            float silu = g / (1f + (float) Math.exp(-g));
            dst[to + i] = silu * gateUp[from + width + i];
        }
    }
}
