package io.kindling.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ForkJoinPool;

/**
 * The 16-bit float formats: widening to float32 (exact) and narrowing float32 to bfloat16 (rounded to nearest
 * even, as PyTorch's {@code .to(torch.bfloat16)}). Public for the CUDA backend's tests and benches, which round
 * their inputs the same way.
 */
public final class HalfFloats {

    private HalfFloats() {
    }

    /** bfloat16 is the top half of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
    static float f16ToFloat(short bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) {
            // Infinity, or NaN with its payload kept in the top mantissa bits.
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24, exact in float32; the sign survives for -0.
            float magnitude = mantissa * 0x1p-24f;
            return Float.intBitsToFloat(sign | Float.floatToRawIntBits(magnitude));
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** float32 to bfloat16, rounded to nearest even; overflow goes to infinity, NaN stays a (quiet) NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** {@code values} narrowed to bfloat16 into a new direct little-endian buffer (read-only, position 0). */
    static ByteBuffer toBf16Buffer(float[] values) {
        ByteBuffer out = ByteBuffer.allocateDirect(Math.multiplyExact(values.length, 2))
                .order(ByteOrder.LITTLE_ENDIAN);
        ParallelChunks.run(ForkJoinPool.commonPool(), values.length, (from, to) -> {
            for (int i = (int) from; i < to; i++) {
                out.putShort(2 * i, floatToBf16(values[i]));
            }
        });
        return out.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
}
