package io.kindling.model;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The tensors of a checkpoint, memory-mapped from its safetensors file(s). A backend reads each tensor once,
 * converting to its compute type; nothing here copies a file onto the heap.
 */
public interface Weights extends AutoCloseable {

    Set<String> names();

    default boolean contains(String name) {
        return names().contains(name);
    }

    /** @throws ModelLoadException naming the tensor when it is absent */
    TensorInfo info(String name);

    /** The tensor converted to float32, row-major. @throws ModelLoadException when absent or unreadable */
    float[] readFloats(String name);

    /**
     * The tensor as bfloat16, row-major, in a read-only little-endian buffer of {@code 2 * numElements} bytes from
     * position 0: what a GPU backend uploads. Values not stored as bf16 are rounded to nearest even. This default
     * goes through {@link #readFloats}; implementations that hold bf16 return it without a float32 copy.
     *
     * @throws ModelLoadException when absent or unreadable, or larger than one 2 GB buffer
     */
    default ByteBuffer readBf16(String name) {
        return HalfFloats.toBf16Buffer(readFloats(name));
    }

    @Override
    void close();
}
