package io.kindling.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Collectors;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header mapping tensor names to
 * {@code dtype}, {@code shape} and {@code data_offsets} (relative to the end of the header), then the data.
 * The header is validated when the file opens; tensor data is memory-mapped only while it is read.
 */
final class SafetensorsFile implements AutoCloseable {

    /** The limit the reference implementation enforces; a larger length means a corrupt or foreign file. */
    private static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Tensors are mapped in pieces of at most this many bytes, since one mapping is limited to 2 GB. */
    private static final int MAX_MAPPING_BYTES = 1 << 30;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A tensor and where its bytes lie in the file: {@code [position, position + size)}. */
    record Tensor(TensorInfo info, long position, long size) {
    }

    private final Path file;
    private final FileChannel channel;
    private final Map<String, Tensor> tensors;

    private SafetensorsFile(Path file, FileChannel channel, Map<String, Tensor> tensors) {
        this.file = file;
        this.channel = channel;
        this.tensors = tensors;
    }

    static SafetensorsFile open(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "file not found");
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot open: " + e, e);
        }
        try {
            return new SafetensorsFile(file, channel, readHeader(file, channel));
        } catch (RuntimeException e) {
            closeQuietly(channel, e);
            throw e;
        }
    }

    Path file() {
        return file;
    }

    Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The tensor's elements widened to float32, in the file's (row-major) order. */
    float[] readFloats(Tensor tensor) {
        TensorInfo info = tensor.info();
        long count = info.numElements();
        if (count > Integer.MAX_VALUE - 8) {
            throw new ModelLoadException(file, "tensor " + info.name() + " has " + count
                    + " elements, more than one Java array holds");
        }
        float[] out = new float[(int) count];
        forEachMapping(tensor, (bytes, first, n) -> widen(info.dtype(), bytes, out, (int) first, n));
        return out;
    }

    /**
     * The tensor as bfloat16 in a read-only little-endian buffer: a view of the mapped file when it stores
     * bf16, else narrowed (rounded to nearest even) into a new direct buffer.
     */
    ByteBuffer readBf16(Tensor tensor) {
        TensorInfo info = tensor.info();
        long count = info.numElements();
        if (count > (Integer.MAX_VALUE - 8) / 2) {
            throw new ModelLoadException(file, "tensor " + info.name() + " has " + count
                    + " elements, more than one 2 GB buffer holds in bf16");
        }
        if (info.dtype() == DType.BF16) {
            return map(tensor, tensor.position(), tensor.size());
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) count * 2).order(ByteOrder.LITTLE_ENDIAN);
        forEachMapping(tensor, (bytes, first, n) -> narrow(info.dtype(), bytes, out, first, n));
        return out.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @FunctionalInterface
    private interface MappedPiece {
        void accept(ByteBuffer bytes, long firstElement, int count);
    }

    /** Maps the tensor piece by piece, since one mapping holds at most 2 GB. */
    private void forEachMapping(Tensor tensor, MappedPiece piece) {
        long count = tensor.info().numElements();
        int elementBytes = tensor.info().dtype().bytes();
        int chunkElements = MAX_MAPPING_BYTES / elementBytes;
        for (long done = 0; done < count; done += chunkElements) {
            int n = (int) Math.min(chunkElements, count - done);
            piece.accept(map(tensor, tensor.position() + done * elementBytes, (long) n * elementBytes), done, n);
        }
    }

    private ByteBuffer map(Tensor tensor, long position, long size) {
        try {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, position, size);
            return mapped.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot map tensor " + tensor.info().name() + ": " + e, e);
        }
    }

    private static void widen(DType dtype, ByteBuffer bytes, float[] out, int offset, int n) {
        switch (dtype) {
            case F32 -> bytes.asFloatBuffer().get(out, offset, n);
            case BF16 -> {
                ShortBuffer halves = bytes.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    out[offset + i] = HalfFloats.bf16ToFloat(halves.get(i));
                }
            }
            case F16 -> {
                ShortBuffer halves = bytes.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    out[offset + i] = HalfFloats.f16ToFloat(halves.get(i));
                }
            }
            default -> throw new IllegalStateException("unhandled dtype " + dtype);
        }
    }

    /** Elements {@code [0, n)} of {@code bytes} (F32 or F16) rounded to bf16 into {@code out} from element {@code first}. */
    private static void narrow(DType dtype, ByteBuffer bytes, ByteBuffer out, long first, int n) {
        ParallelChunks.run(ForkJoinPool.commonPool(), n, (from, to) -> {
            for (int i = (int) from; i < to; i++) {
                float value = switch (dtype) {
                    case F32 -> bytes.getFloat(4 * i);
                    case F16 -> HalfFloats.f16ToFloat(bytes.getShort(2 * i));
                    default -> throw new IllegalStateException("unhandled dtype " + dtype);
                };
                out.putShort((int) (2 * (first + i)), HalfFloats.floatToBf16(value));
            }
        });
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot close: " + e, e);
        }
    }

    private static Map<String, Tensor> readHeader(Path file, FileChannel channel) {
        try {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new ModelLoadException(file, "file is " + fileSize + " bytes, too short for a safetensors header");
            }
            long headerLength = readFully(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw new ModelLoadException(file, "header length " + headerLength + " is not between 2 and "
                        + MAX_HEADER_BYTES + "; not a safetensors file?");
            }
            if (headerLength > fileSize - 8) {
                throw new ModelLoadException(file, "header length " + headerLength + " exceeds file size " + fileSize);
            }
            ByteBuffer header = readFully(channel, 8, (int) headerLength);
            JsonNode root;
            try {
                root = MAPPER.readTree(header.array());
            } catch (JacksonException e) {
                throw new ModelLoadException(file, "malformed header JSON: " + e.getOriginalMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new ModelLoadException(file, "header is not a JSON object");
            }
            long dataStart = 8 + headerLength;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : root.properties()) {
                if (!entry.getKey().equals("__metadata__")) {
                    tensors.put(entry.getKey(), tensor(file, entry.getKey(), entry.getValue(), dataStart, fileSize));
                }
            }
            return Collections.unmodifiableMap(tensors);
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read header: " + e, e);
        }
    }

    private static Tensor tensor(Path file, String name, JsonNode entry, long dataStart, long fileSize) {
        String where = "tensor " + name;
        if (!entry.isObject()) {
            throw new ModelLoadException(file, where + ": header entry is not an object");
        }
        DType dtype = dtype(file, name, entry.get("dtype"));
        long[] shape = longs(file, where + " shape", entry.get("shape"), -1);
        long[] offsets = longs(file, where + " data_offsets", entry.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new ModelLoadException(file, where + ": data_offsets [" + begin + ", " + end + ") end before they begin");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape);
        long expected = byteSize(file, info);
        if (end - begin != expected) {
            throw new ModelLoadException(file, where + ": data_offsets [" + begin + ", " + end + ") hold "
                    + (end - begin) + " bytes, but " + dtype.safetensorsName() + " " + Arrays.toString(shape)
                    + " needs " + expected);
        }
        if (end > fileSize - dataStart) {
            throw new ModelLoadException(file, where + " data [" + begin + ", " + end
                    + ") lies outside the file, whose data section holds " + (fileSize - dataStart)
                    + " bytes (truncated?)");
        }
        return new Tensor(info, dataStart + begin, end - begin);
    }

    private static DType dtype(Path file, String name, JsonNode node) {
        String dtype = node != null && node.isTextual() ? node.textValue() : String.valueOf(node);
        return Arrays.stream(DType.values()).filter(d -> d.safetensorsName().equals(dtype)).findFirst()
                .orElseThrow(() -> new ModelLoadException(file, "tensor " + name + " has dtype " + dtype
                        + "; supported: " + Arrays.stream(DType.values()).map(DType::safetensorsName)
                        .collect(Collectors.joining(", "))));
    }

    /** A JSON array of non-negative integers, of {@code length} elements unless that is negative. */
    private static long[] longs(Path file, String what, JsonNode node, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new ModelLoadException(file, what + " must be a list of " + (length >= 0 ? length + " " : "")
                    + "non-negative integers, got " + node);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new ModelLoadException(file, what + " must hold non-negative integers, got " + node);
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static long byteSize(Path file, TensorInfo info) {
        try {
            long bytes = info.dtype().bytes();
            for (long d : info.shape()) {
                bytes = Math.multiplyExact(bytes, d);
            }
            return bytes;
        } catch (ArithmeticException e) {
            throw new ModelLoadException(file, "tensor " + info.name() + " shape " + Arrays.toString(info.shape())
                    + " overflows");
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file at " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }

    private static void closeQuietly(FileChannel channel, RuntimeException failure) {
        try {
            channel.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
