package io.kindling.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWeightsTest {

    @TempDir
    Path dir;

    @Test
    void widensEachDtypeExactly() throws IOException {
        new SafetensorsWriter()
                .halves("f16", "F16", new long[] {2, 6},
                        0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x03ff,  // 1, -2, max, min normal, subnormals
                        0x8000, 0x0000, 0x7c00, 0xfc00, 0x3555, 0x7e00)  // -0, +0, +inf, -inf, ~1/3, NaN
                .halves("bf16", "BF16", new long[] {5}, 0x3f80, 0xc040, 0x8000, 0x7f80, 0x0001)
                .f32("f32", new long[] {3}, Float.MIN_VALUE, -0.0f, 3.1415927f)
                .write(dir.resolve("model.safetensors"));

        try (SafetensorsWeights weights = SafetensorsWeights.open(dir)) {
            assertEquals(Set.of("f16", "bf16", "f32"), weights.names());
            TensorInfo f16 = weights.info("f16");
            assertEquals(DType.F16, f16.dtype());
            assertArrayEquals(new long[] {2, 6}, f16.shape());

            float[] h = weights.readFloats("f16");
            assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-14f, 0x1p-24f, 1023 * 0x1p-24f,
                    -0.0f, 0.0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.333251953125f, Float.NaN}, h);
            assertEquals(0x80000000, Float.floatToRawIntBits(h[6]), "negative zero keeps its sign");

            float[] b = weights.readFloats("bf16");
            assertArrayEquals(new float[] {1f, -3f, -0.0f, Float.POSITIVE_INFINITY, 0x1p-133f}, b);
            assertEquals(0x80000000, Float.floatToRawIntBits(b[2]));

            assertArrayEquals(new float[] {Float.MIN_VALUE, -0.0f, 3.1415927f}, weights.readFloats("f32"));
        }
    }

    @Test
    void readsShardsThroughTheIndex() throws IOException {
        new SafetensorsWriter().f32("a", new long[] {2}, 1f, 2f).write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().f32("b", new long[] {1}, 3f).f32("c", new long[] {1}, 4f)
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 16},
                 "weight_map": {"a": "model-00001-of-00002.safetensors",
                                "b": "model-00002-of-00002.safetensors",
                                "c": "model-00002-of-00002.safetensors"}}""");

        try (SafetensorsWeights weights = SafetensorsWeights.open(dir)) {
            assertEquals(Set.of("a", "b", "c"), weights.names());
            assertArrayEquals(new float[] {1f, 2f}, weights.readFloats("a"));
            assertArrayEquals(new float[] {4f}, weights.readFloats("c"));
            assertEquals(dir.resolve("model-00002-of-00002.safetensors"), weights.fileOf("b"));
        }
    }

    @Test
    void indexNamingATensorItsShardLacksFails() throws IOException {
        new SafetensorsWriter().f32("a", new long[] {1}, 1f).write(dir.resolve("shard.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"a\": \"shard.safetensors\", \"lm_head.weight\": \"shard.safetensors\"}}");

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertEquals(dir.resolve("model.safetensors.index.json"), e.file());
        assertTrue(e.getMessage().contains("lm_head.weight in shard.safetensors, which does not contain it"),
                e.getMessage());
    }

    @Test
    void indexNamingAMissingShardFails() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\"}}");

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("model-00001-of-00002.safetensors, which does not exist"), e.getMessage());
    }

    @Test
    void truncatedFileNamesTheTensorOutsideIt() throws IOException {
        Path file = dir.resolve("model.safetensors");
        new SafetensorsWriter().f32("model.norm.weight", new long[] {4}, 1f, 2f, 3f, 4f).write(file);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("tensor model.norm.weight data [0, 16) lies outside the file, "
                + "whose data section holds 13 bytes"), e.getMessage());
    }

    @Test
    void headerLongerThanTheFileFails() throws IOException {
        Path file = dir.resolve("model.safetensors");
        byte[] bytes = ByteBuffer.allocate(1234).order(ByteOrder.LITTLE_ENDIAN).putLong(999999).array();
        Files.write(file, bytes);

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertTrue(e.getMessage().endsWith("header length 999999 exceeds file size 1234"), e.getMessage());
    }

    @Test
    void absurdHeaderLengthFails() throws IOException {
        Files.write(dir.resolve("model.safetensors"), "GGUF\u0003\0\0\0 not safetensors".getBytes());

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertTrue(e.getMessage().endsWith("header length 14064895815 is not between 2 and 100000000; "
                + "not a safetensors file?"), e.getMessage());
    }

    @Test
    void malformedHeaderJsonFails() throws IOException {
        Files.write(dir.resolve("model.safetensors"), SafetensorsWriter.headerBlock("{\"a\": {\"dtype\": "));

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertTrue(e.getMessage().contains("malformed header JSON"), e.getMessage());
    }

    @Test
    void unsupportedDtypeNamesTheTensor() throws IOException {
        new SafetensorsWriter().raw("model.layers.0.mlp.up_proj.weight", "F8_E4M3", new long[] {2}, new byte[2])
                .write(dir.resolve("model.safetensors"));

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertTrue(e.getMessage().endsWith(
                "tensor model.layers.0.mlp.up_proj.weight has dtype F8_E4M3; supported: BF16, F16, F32"),
                e.getMessage());
    }

    @Test
    void offsetsDisagreeingWithShapeFail() throws IOException {
        // 6 bytes of data declared as a [2, 2] BF16 tensor, which needs 8.
        new SafetensorsWriter().raw("w", "BF16", new long[] {2, 2}, new byte[6]).write(dir.resolve("model.safetensors"));

        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertTrue(e.getMessage().endsWith("tensor w: data_offsets [0, 6) hold 6 bytes, but BF16 [2, 2] needs 8"),
                e.getMessage());
    }

    @Test
    void missingTensorAndClosedWeightsFailWithModelLoadException() throws IOException {
        new SafetensorsWriter().f32("a", new long[] {1}, 1f).write(dir.resolve("model.safetensors"));
        SafetensorsWeights weights = SafetensorsWeights.open(dir);

        ModelLoadException missing = assertThrows(ModelLoadException.class, () -> weights.info("b"));
        assertTrue(missing.getMessage().endsWith("no tensor named b"), missing.getMessage());
        weights.close();
        assertThrows(ModelLoadException.class, () -> weights.readFloats("a"), "channel released by close()");
    }

    @Test
    void noWeightsFileFails() {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsWeights.open(dir));
        assertEquals(dir, e.file());
        assertTrue(e.getMessage().contains("no model.safetensors or model.safetensors.index.json"), e.getMessage());
    }

    /** A sparse file of about 2.2 GB whose only tensor lies past 2^31: mapped, not copied onto the heap. */
    @Test
    void readsTensorBeyondTwoGigabytesWithoutCopyingTheFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        long begin = (1L << 31) + 4096 + 6;  // past 2^31 and not page-aligned
        byte[] header = SafetensorsWriter.headerBlock("{\"far\":{\"dtype\":\"BF16\",\"shape\":[3],"
                + "\"data_offsets\":[" + begin + "," + (begin + 6) + "]}}");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(2_200_000_000L);
            raf.write(header);
            raf.seek(header.length + begin);
            raf.write(new byte[] {(byte) 0x80, 0x3f, 0x40, (byte) 0xc0, 0x49, 0x40});  // 1, -3, 3.140625
        }
        try {
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
            long start = System.nanoTime();

            float[] values;
            try (SafetensorsWeights weights = SafetensorsWeights.open(dir)) {
                values = weights.readFloats("far");
            }

            long millis = (System.nanoTime() - start) / 1_000_000;
            long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
            assertArrayEquals(new float[] {1f, -3f, 3.140625f}, values);
            assertTrue(allocated < 16 << 20, "allocated " + allocated + " bytes on the heap");
            assertTrue(millis < 1000, "took " + millis + " ms");
        } finally {
            Files.delete(file);
        }
    }
}
