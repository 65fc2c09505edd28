package io.kindling.backend.cpu;

import io.kindling.model.ModelConfig;

/**
 * Rotary position embedding in transformers' rotate_half layout: pair i is {@code (x[i], x[i + headDim/2])},
 * rotated by {@code pos * invFreq[i]}, with the angle and its cos/sin in float32 as transformers computes them.
 * Public as the CPU twin the CUDA kernels are checked against.
 */
public final class RotaryEmbedding {

    private final float[] invFreq;
    private final int half;

    RotaryEmbedding(ModelConfig config) {
        this(config.rope().inverseFrequencies(config.headDim()));
    }

    /** @param invFreq {@code headDim / 2} inverse frequencies, scaling applied (see {@code Rope.inverseFrequencies}) */
    public RotaryEmbedding(float[] invFreq) {
        this.invFreq = invFreq.clone();
        this.half = invFreq.length;
    }

    /** cos/sin of every token's angles, {@code [numTokens][headDim / 2]} each, shared by all layers of a step. */
    public record Table(float[] cos, float[] sin) {
    }

    /** The table of the first {@code numTokens} of {@code positions}. */
    public Table table(int[] positions, int numTokens) {
        float[] cos = new float[numTokens * half];
        float[] sin = new float[numTokens * half];
        for (int t = 0; t < numTokens; t++) {
            float pos = positions[t];
            for (int i = 0; i < half; i++) {
                float angle = pos * invFreq[i];
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
        return new Table(cos, sin);
    }

    /** Rotates the {@code numHeads} heads stored from {@code offset} in {@code x}, for token {@code t}. */
    public void apply(Table table, int t, float[] x, int offset, int numHeads) {
        int headDim = 2 * half;
        for (int h = 0; h < numHeads; h++) {
            int base = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = table.cos[t * half + i];
                float s = table.sin[t * half + i];
                float x1 = x[base + i];
                float x2 = x[base + i + half];
                x[base + i] = x1 * c - x2 * s;
                x[base + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
