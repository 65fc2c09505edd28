package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;

/** Page-locked host memory: the source and target of a step's asynchronous copies. */
public final class PinnedBuffer implements AutoCloseable {

    private final Pointer pointer;
    private final ByteBuffer buffer;
    private boolean freed;

    private PinnedBuffer(Pointer pointer, ByteBuffer buffer) {
        this.pointer = pointer;
        this.buffer = buffer;
    }

    public static PinnedBuffer allocate(int bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("pinned allocation must be positive, got " + bytes + " bytes");
        }
        Pointer pointer = new Pointer();
        cuMemAllocHost(pointer, bytes);
        return new PinnedBuffer(pointer, pointer.getByteBuffer(0, bytes).order(ByteOrder.LITTLE_ENDIAN));
    }

    public Pointer pointer() {
        return pointer;
    }

    /** Little-endian view of the whole allocation. */
    public ByteBuffer buffer() {
        return buffer;
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            cuMemFreeHost(pointer);
        }
    }
}
