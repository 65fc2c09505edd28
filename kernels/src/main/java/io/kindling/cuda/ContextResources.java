package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;

/**
 * Device resources spread over several ranks' contexts, as the tensor-parallel exchanges hold them: each is released
 * with its own context current, last first ({@link Resources#closeAll(List)}).
 */
final class ContextResources implements AutoCloseable {

    private final List<AutoCloseable> owned = new ArrayList<>();

    /** Takes {@code resource}, allocated in {@code context}, to release it there. */
    <T extends AutoCloseable> T own(CudaContext context, T resource) {
        owned.add(() -> {
            context.makeCurrent();
            resource.close();
        });
        return resource;
    }

    /** An event for ordering streams (no timing) in {@code context}, which it makes current. */
    CUevent event(CudaContext context) {
        context.makeCurrent();
        CUevent event = new CUevent();
        cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING);
        own(context, () -> cuEventDestroy(event));
        return event;
    }

    /** Releases what is held after {@code failure} stopped the owner's construction (see {@link Resources}). */
    void closeAfter(Throwable failure) {
        Resources.closeAllAfter(failure, owned);
    }

    @Override
    public void close() {
        Resources.closeAll(owned);
    }
}
