package io.kindling.backend.cpu;

/**
 * {@code x * rsqrt(mean(x^2) + eps) * weight}, as transformers' LlamaRMSNorm computes it in float32. Public as the
 * CPU twin the CUDA kernels are checked against.
 */
public final class RmsNorm {

    private RmsNorm() {
    }

    public static void apply(float[] x, int xOffset, float[] weight, float eps, float[] dst, int dstOffset) {
        int n = weight.length;
        // A double sum rounds once, as close to torch's float32 mean as a sequential loop gets.
        double sumSquares = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOffset + i];
            sumSquares += v * v;
        }
        float variance = (float) (sumSquares / n);
        float inverse = (float) (1.0 / Math.sqrt(variance + eps));
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = weight[i] * (x[xOffset + i] * inverse);
        }
    }
}
