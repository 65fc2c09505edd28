package io.kindling.backend.cpu;

/**
 * One decoder layer's tensors as the checkpoint holds them, row-major {@code [out, in]}, before they are split over
 * the ranks. Biases and q/k norms are null where the model has none.
 */
record LayerTensors(float[] inputNorm, float[] q, float[] k, float[] v, float[] qBias, float[] kBias, float[] vBias,
                    float[] qNorm, float[] kNorm, float[] o, float[] oBias, float[] postAttentionNorm,
                    float[] gate, float[] up, float[] gateBias, float[] upBias, float[] down, float[] downBias) {

    /** What every rank of this layer uses. */
    ModelWeights.Layer shared() {
        return new ModelWeights.Layer(inputNorm, qNorm, kNorm, oBias, postAttentionNorm, downBias);
    }
}
