package io.kindling.model;

import java.util.Set;

/**
 * The tensors of a checkpoint, memory-mapped from its safetensors file(s). A backend reads each tensor once,
 * converting to its compute type; nothing here copies a file onto the heap.
 */
public interface Weights extends AutoCloseable {

    Set<String> names();

    boolean contains(String name);

    /** @throws ModelLoadException naming the tensor when it is absent */
    TensorInfo info(String name);

    /** The tensor converted to float32, row-major. @throws ModelLoadException when absent or unreadable */
    float[] readFloats(String name);

    @Override
    void close();
}
