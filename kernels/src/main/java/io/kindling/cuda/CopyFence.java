package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Guards pinned memory that an asynchronous copy reads or writes: {@link #mark} after queuing the copy, {@link #await}
 * before writing the memory again (an upload) or reading it (a copy back). A step whose logits nobody reads is never
 * synchronized, so only this keeps the next step from overwriting inputs still queued for the device; and it waits
 * for one copy without waiting for what the stream queued after it (the next step, under asynchronous scheduling).
 */
final class CopyFence implements AutoCloseable {

    private final CUevent event = new CUevent();
    private boolean marked;

    CopyFence() {
        cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING);
    }

    /** Marks the point on the stream after the copies queued so far. */
    void mark(CUstream stream) {
        cuEventRecord(event, stream);
        marked = true;
    }

    /** Waits until the copies before the last mark have run; returns at once when they have. */
    void await() {
        if (marked) {
            cuEventSynchronize(event);
            marked = false;
        }
    }

    @Override
    public void close() {
        cuEventDestroy(event);
    }
}
