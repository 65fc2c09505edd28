package io.kindling.cuda;

import io.kindling.backend.BackendUnavailableException;
import java.util.SplittableRandom;

/** The GPU tests' shared context and input/checking helpers. GPU tests skip where {@link #available()} is false. */
public final class CudaTestSupport {

    private static CudaContext context;
    private static String unavailable;

    private CudaTestSupport() {
    }

    /** True when a CUDA device and this build's kernels are both present. */
    public static synchronized boolean available() {
        if (context == null && unavailable == null) {
            try {
                if (KernelModule.class.getResource("/io/kindling/cuda/kernels/UNAVAILABLE") != null) {
                    unavailable = "kernels were built without nvcc";
                } else {
                    context = CudaContext.create(0);
                }
            } catch (BackendUnavailableException e) { // CudaContext turns a missing driver or JCuda library into this
                unavailable = e.getMessage();
            }
        }
        if (context != null) {
            context.makeCurrent();
        }
        return context != null;
    }

    /** Why {@link #available()} is false, for the skip message. */
    public static synchronized String whyUnavailable() {
        return unavailable;
    }

    public static synchronized CudaContext context() {
        if (!available()) {
            throw new IllegalStateException("no CUDA device: " + unavailable);
        }
        return context;
    }

    /** Uniform in [-scale, scale), never all zeros. */
    public static float[] randomFloats(int n, long seed, float scale) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return values;
    }

    /** ||got - want|| / ||want||, in double; +infinity when {@code got} holds a NaN or an infinity. */
    public static double relError(float[] got, float[] want) {
        if (got.length != want.length) {
            throw new IllegalArgumentException("lengths differ: " + got.length + " vs " + want.length);
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = (double) got[i] - want[i];
            diff += d * d;
            norm += (double) want[i] * want[i];
        }
        return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
    }
}
