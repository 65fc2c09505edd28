package io.kindling.cuda;

/** bfloat16 as the upper 16 bits of a float32, rounded to nearest even (as torch and the CUDA intrinsics round). */
public final class Bf16 {

    private Bf16() {
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) { // NaN stays a quiet NaN
            return (short) ((bits >>> 16) | 0x40);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    public static float toFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
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
