package io.kindling.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Weights#readBf16}: the exact bf16 bits for each stored dtype, rounding to nearest even. */
class ReadBf16Test {

    /** float32 bit patterns and their bf16 rounding. */
    private static final int[][] F32_CASES = {
            {0x3f800000, 0x3f80},  // 1
            {0x3f808000, 0x3f80},  // halfway, even below: down
            {0x3f818000, 0x3f82},  // halfway, odd below: up
            {0x3f808001, 0x3f81},  // just above halfway: up
            {0x3f807fff, 0x3f80},  // just below halfway: down
            {0xbf818000, 0xbf82},  // negative halfway, odd: away from zero
            {0x7f7fffff, 0x7f80},  // largest float rounds to infinity
            {0xff800000, 0xff80},  // -infinity
            {0x80000000, 0x8000},  // -0
            {0x00018000, 0x0002},  // subnormal halfway, odd: up
            {0x00008000, 0x0000},  // subnormal halfway, even: down
            {0x7fc00000, 0x7fc0},  // quiet NaN
            {0x7f800001, 0x7fc0},  // signalling NaN whose payload rounding would make it infinity: stays NaN
    };

    /** f16 bit patterns (widened exactly, then rounded) and their bf16. */
    private static final int[][] F16_CASES = {
            {0x3c00, 0x3f80},  // 1
            {0x3555, 0x3eab},  // 0.333251953125 = 0x3eaaa000: up
            {0x7bff, 0x4780},  // 65504 = 0x477fe000: up
            {0x0001, 0x3380},  // 2^-24
            {0x8000, 0x8000},  // -0
            {0x7c00, 0x7f80},  // infinity
            {0x7e00, 0x7fc0},  // NaN
            {0xc001, 0xc000},  // -2.001953125 = 0xc0002000: down
    };

    @TempDir
    Path dir;

    @Test
    void roundsFloat32ToNearestEven() throws IOException {
        float[] values = new float[F32_CASES.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.intBitsToFloat(F32_CASES[i][0]);
        }
        new SafetensorsWriter().f32("t", new long[] {values.length}, values).write(dir.resolve("model.safetensors"));
        try (SafetensorsWeights weights = SafetensorsWeights.open(dir)) {
            assertBits(F32_CASES, weights.readBf16("t"));
        }
    }

    @Test
    void roundsFloat16ToNearestEven() throws IOException {
        int[] bits = new int[F16_CASES.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = F16_CASES[i][0];
        }
        new SafetensorsWriter().halves("t", "F16", new long[] {2, 4}, bits).write(dir.resolve("model.safetensors"));
        try (SafetensorsWeights weights = SafetensorsWeights.open(dir)) {
            assertBits(F16_CASES, weights.readBf16("t"));
        }
    }

    @Test
    void bf16IsAReadOnlyViewOfTheMappedFile() throws IOException {
        int[] bits = {0x3f80, 0xc040, 0x8000, 0x7f80, 0x0001, 0x7fc1};
        new SafetensorsWriter().f32("pad", new long[] {1}, 5f).halves("t", "BF16", new long[] {3, 2}, bits)
                .write(dir.resolve("model.safetensors"));
        try (SafetensorsWeights weights = SafetensorsWeights.open(dir)) {
            ByteBuffer b = weights.readBf16("t");
            assertTrue(b instanceof MappedByteBuffer, "a mapping of the file, not a copy: " + b.getClass());
            for (int i = 0; i < bits.length; i++) {
                assertEquals(bits[i], b.getShort(2 * i) & 0xffff, "element " + i);
            }
            assertThrows(ReadOnlyBufferException.class, () -> b.putShort(0, (short) 0));
        }
    }

    @Test
    void theDefaultConvertsFromFloats() {
        float[] values = new float[F32_CASES.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.intBitsToFloat(F32_CASES[i][0]);
        }
        Weights floatsOnly = new Weights() {
            @Override
            public Set<String> names() {
                return Set.of("t");
            }

            @Override
            public boolean contains(String name) {
                return name.equals("t");
            }

            @Override
            public TensorInfo info(String name) {
                return new TensorInfo(name, DType.F32, new long[] {values.length});
            }

            @Override
            public float[] readFloats(String name) {
                return values.clone();
            }

            @Override
            public void close() {
            }
        };
        assertBits(F32_CASES, floatsOnly.readBf16("t"));
    }

    @Test
    void manyChunksAreAllWritten() {
        // more elements than one parallel chunk, and not a multiple of it
        float[] values = new float[3 * ParallelChunks.CHUNK + 17];
        for (int i = 0; i < values.length; i++) {
            values[i] = i + 0.5f;
        }
        ByteBuffer b = HalfFloats.toBf16Buffer(values);
        assertEquals(2 * values.length, b.remaining());
        for (int i = 0; i < values.length; i++) {
            assertEquals(HalfFloats.floatToBf16(values[i]), b.getShort(2 * i), "element " + i);
        }
    }

    /** The buffer holds exactly the expected bf16 bits, little-endian, from position 0. */
    private static void assertBits(int[][] cases, ByteBuffer b) {
        assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
        assertEquals(0, b.position());
        assertEquals(2 * cases.length, b.remaining());
        assertTrue(b.isDirect(), "direct, so a GPU copy needs no staging");
        assertTrue(b.isReadOnly());
        assertFalse(b.hasArray());
        for (int i = 0; i < cases.length; i++) {
            assertEquals(cases[i][1], b.getShort(2 * i) & 0xffff,
                    String.format("element %d: 0x%x", i, cases[i][0]));
        }
        // the bytes themselves are little-endian
        assertEquals((byte) cases[0][1], b.get(0));
    }
}
