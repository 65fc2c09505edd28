package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;

/**
 * One device allocation. Copies and fills here are synchronous with respect to ALL streams of the context (the
 * engine's stream is non-blocking, so it is not ordered with the legacy stream these calls use): they wait for
 * the device to be idle before and after. For setup and tests; a step's copies go through pinned memory.
 */
public final class DeviceBuffer implements AutoCloseable {

    private final CUdeviceptr ptr;
    private final long bytes;
    private boolean freed;

    private DeviceBuffer(CUdeviceptr ptr, long bytes) {
        this.ptr = ptr;
        this.bytes = bytes;
    }

    public static DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device allocation must be positive, got " + bytes + " bytes");
        }
        CUdeviceptr ptr = new CUdeviceptr();
        cuMemAlloc(ptr, bytes);
        return new DeviceBuffer(ptr, bytes);
    }

    public CUdeviceptr ptr() {
        return ptr;
    }

    public CUdeviceptr at(long byteOffset) {
        if (byteOffset < 0 || byteOffset > bytes) {
            throw new IndexOutOfBoundsException("offset " + byteOffset + " outside a buffer of " + bytes + " bytes");
        }
        return ptr.withByteOffset(byteOffset);
    }

    public long bytes() {
        return bytes;
    }

    public DeviceBuffer copyFrom(float[] src) {
        return copyFrom(Pointer.to(src), (long) src.length * Sizeof.FLOAT);
    }

    public DeviceBuffer copyFrom(int[] src) {
        return copyFrom(Pointer.to(src), (long) src.length * Sizeof.INT);
    }

    public DeviceBuffer copyFrom(short[] src) {
        return copyFrom(Pointer.to(src), (long) src.length * Sizeof.SHORT);
    }

    public float[] copyTo(float[] dst) {
        copyTo(Pointer.to(dst), (long) dst.length * Sizeof.FLOAT);
        return dst;
    }

    public int[] copyTo(int[] dst) {
        copyTo(Pointer.to(dst), (long) dst.length * Sizeof.INT);
        return dst;
    }

    public short[] copyTo(short[] dst) {
        copyTo(Pointer.to(dst), (long) dst.length * Sizeof.SHORT);
        return dst;
    }

    /** Fills every byte with 0xFF: NaN in fp32 and bf16, -1 in int32, so an unwritten output cannot pass a check. */
    public DeviceBuffer poison() {
        return idleAround(() -> cuMemsetD8(ptr, (byte) 0xFF, bytes));
    }

    private DeviceBuffer copyFrom(Pointer src, long count) {
        checkFits(count);
        return idleAround(() -> cuMemcpyHtoD(ptr, src, count));
    }

    /** Runs {@code write} on the legacy stream with the whole device idle before and after (see the class comment). */
    private DeviceBuffer idleAround(Runnable write) {
        cuCtxSynchronize();
        write.run();
        cuCtxSynchronize();
        return this;
    }

    private void copyTo(Pointer dst, long count) {
        checkFits(count);
        cuCtxSynchronize();
        cuMemcpyDtoH(dst, ptr, count);
    }

    private void checkFits(long count) {
        if (count > bytes) {
            throw new IllegalArgumentException("copy of " + count + " bytes does not fit a buffer of " + bytes);
        }
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            cuMemFree(ptr);
        }
    }
}
