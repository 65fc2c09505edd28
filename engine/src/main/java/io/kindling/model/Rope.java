package io.kindling.model;

/**
 * Rotary position embedding parameters, as {@code rope_theta}/{@code rope_scaling} (transformers 4.x) or
 * {@code rope_parameters} (5.x) describe them.
 *
 * @param theta base of the inverse frequencies
 * @param type {@code default}, {@code linear} or {@code llama3}
 * @param factor scaling factor (1 for {@code default})
 * @param lowFreqFactor {@code llama3} only
 * @param highFreqFactor {@code llama3} only
 * @param originalMaxPositionEmbeddings {@code llama3} only
 */
public record Rope(double theta, String type, double factor, double lowFreqFactor, double highFreqFactor,
                   int originalMaxPositionEmbeddings) {

    public static Rope standard(double theta) {
        return new Rope(theta, "default", 1.0, 0, 0, 0);
    }

    /** Inverse frequencies for the {@code headDim / 2} rotated pairs, scaling applied, as transformers computes them. */
    public float[] inverseFrequencies(int headDim) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            // transformers computes base ** (arange(0, dim, 2).float() / dim) in float32, then 1.0 / that.
            float exponent = (float) (2 * i) / headDim;
            float base = (float) Math.pow(theta, exponent);
            inv[i] = 1.0f / base;
        }
        switch (type) {
            case "default" -> { }
            case "linear" -> {
                for (int i = 0; i < half; i++) {
                    inv[i] = (float) (inv[i] / factor);
                }
            }
            case "llama3" -> applyLlama3(inv);
            default -> throw new IllegalStateException("unsupported rope type " + type);
        }
        return inv;
    }

    private void applyLlama3(float[] inv) {
        double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowFreqWavelen) {
                inv[i] = (float) (inv[i] / factor);
            } else if (wavelen >= highFreqWavelen) {
                double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                inv[i] = (float) ((1 - smooth) * inv[i] / factor + smooth * inv[i]);
            }
        }
    }
}
