package io.kindling.cuda;

import io.kindling.model.HalfFloats;

/** bfloat16 arrays for the kernels' tests and benches, rounded as the engine rounds weights ({@link HalfFloats}). */
public final class Bf16 {

    private Bf16() {
    }

    public static short fromFloat(float f) {
        return HalfFloats.floatToBf16(f);
    }

    public static float toFloat(short b) {
        return HalfFloats.bf16ToFloat(b);
    }

    public static short[] fromFloats(float[] src) {
        short[] dst = new short[src.length];
        for (int i = 0; i < src.length; i++) {
            dst[i] = fromFloat(src[i]);
        }
        return dst;
    }

    /** Every element rounded to bf16 and back: what a GPU kernel sees of these values, as the CPU twin's input. */
    public static float[] round(float[] src) {
        float[] dst = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            dst[i] = toFloat(fromFloat(src[i]));
        }
        return dst;
    }
}
