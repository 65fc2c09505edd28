package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.IntBuffer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * int32 values bound for the device: written into pinned memory, then sent with one asynchronous copy on the
 * stream, so a step's inputs cost one transfer and no synchronization. The device side stays at one address.
 */
final class StagedInts implements AutoCloseable {

    private final int capacity;
    private final PinnedBuffer host;
    private final DeviceBuffer device;
    private final CopyFence sent = new CopyFence();

    StagedInts(int capacity) {
        this.capacity = capacity;
        this.host = PinnedBuffer.allocate(Math.multiplyExact(capacity, Integer.BYTES));
        this.device = DeviceBuffer.allocate((long) capacity * Integer.BYTES);
    }

    int capacity() {
        return capacity;
    }

    /** The pinned values to fill, once the previous copy has read them (it may still be queued on the stream). */
    IntBuffer begin() {
        sent.await();
        return host.buffer().clear().asIntBuffer();
    }

    /** Queues the copy of the first {@code count} values to the device. */
    void send(CUstream stream, int count) {
        if (count < 0 || count > capacity) {
            throw new IllegalArgumentException("count " + count + " outside the capacity of " + capacity + " ints");
        }
        cuMemcpyHtoDAsync(device.ptr(), host.pointer(), (long) count * Integer.BYTES, stream);
        sent.mark(stream);
    }

    /** The device address of value {@code index}. */
    CUdeviceptr at(int index) {
        return device.at((long) index * Integer.BYTES);
    }

    @Override
    public void close() {
        sent.close();
        device.close();
        host.close();
    }
}
