package io.kindling.model;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** Writes small safetensors files for tests: tensors in insertion order, data packed back to back. */
final class SafetensorsWriter {

    private record Entry(String dtype, long[] shape, byte[] data) {
    }

    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    SafetensorsWriter f32(String name, long[] shape, float... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        return raw(name, "F32", shape, data.array());
    }

    /** A BF16 or F16 tensor given as raw 16-bit patterns. */
    SafetensorsWriter halves(String name, String dtype, long[] shape, int... bits) {
        ByteBuffer data = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int b : bits) {
            data.putShort((short) b);
        }
        return raw(name, dtype, shape, data.array());
    }

    /** A tensor of the given shape whose elements are 0, 1, 2, ... in F32. */
    SafetensorsWriter counting(String name, long... shape) {
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i;
        }
        return f32(name, shape, values);
    }

    SafetensorsWriter raw(String name, String dtype, long[] shape, byte[] data) {
        tensors.put(name, new Entry(dtype, shape, data));
        return this;
    }

    SafetensorsWriter remove(String name) {
        tensors.remove(name);
        return this;
    }

    void write(Path file) throws IOException {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Entry t = e.getValue();
            json.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(t.dtype())
                    .append("\",\"shape\":").append(Arrays.stream(t.shape()).mapToObj(Long::toString)
                            .collect(Collectors.joining(",", "[", "]")))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + t.data().length)
                    .append("]}");
            offset += t.data().length;
        }
        json.append('}');
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(headerBlock(json.toString()));
            for (Entry t : tensors.values()) {
                out.write(t.data());
            }
        }
    }

    /** The 8-byte little-endian length followed by the header JSON. */
    static byte[] headerBlock(String json) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).array();
    }
}
