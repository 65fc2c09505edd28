package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuCtxEnablePeerAccess;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceCanAccessPeer;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.kindling.backend.BackendUnavailableException;
import java.util.List;
import java.util.function.BiConsumer;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One GPU's primary context and the one stream an engine issues all its work on. Every JCuda call throws
 * {@link CudaException} on a non-success code, so no return code goes unchecked.
 */
public final class CudaContext implements AutoCloseable {

    private final int ordinal;
    private final CUdevice device;
    private final CUcontext context;
    private final CUstream stream;
    private final String name;

    private CudaContext(int ordinal, CUdevice device, CUcontext context, CUstream stream, String name) {
        this.ordinal = ordinal;
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.name = name;
    }

    /**
     * Retains GPU {@code ordinal}'s primary context (shared with any other user of the card in this process).
     *
     * @throws BackendUnavailableException naming the reason when the driver, or that GPU, cannot be used
     */
    public static CudaContext create(int ordinal) {
        int count;
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] n = new int[1];
            cuDeviceGetCount(n);
            count = n[0];
        } catch (LinkageError | CudaException e) { // JCuda's native library did not load, or the driver failed
            // JCuda's loader appends every attempt's stack trace to its message: the first line says what failed
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new BackendUnavailableException("CUDA device " + ordinal + " was requested, but the CUDA driver "
                    + "cannot be used here: " + e.getClass().getSimpleName() + ": " + why);
        }
        if (ordinal < 0 || ordinal >= count) {
            throw new BackendUnavailableException("CUDA device " + ordinal + " was requested, but this machine has "
                    + count + " CUDA device" + (count == 1 ? "" : "s"));
        }
        CUdevice device = new CUdevice();
        cuDeviceGet(device, ordinal);
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        String name = new String(nameBytes, java.nio.charset.StandardCharsets.US_ASCII).trim().replace("\0", "");
        CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        CUstream stream = new CUstream();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        return new CudaContext(ordinal, device, context, stream, name);
    }

    /** CUDA devices on this machine; the driver is initialized by a {@link #create} before. */
    static int deviceCount() {
        int[] n = new int[1];
        cuDeviceGetCount(n);
        return n[0];
    }

    /**
     * Lets this context's copies and kernels reach {@code peer}'s memory directly (NVLink or PCIe), as the
     * tensor-parallel all-reduce's peer copies need to run at the link's speed rather than through host memory.
     * Nothing to do on the same GPU. Access stays enabled while the primary contexts live: another engine of this
     * process may rely on it, so it is never disabled.
     *
     * @return false when the two GPUs have no peer-to-peer path
     */
    private boolean enablePeerAccess(CudaContext peer) {
        if (peer.ordinal == ordinal) {
            return true;
        }
        int[] can = new int[1];
        cuDeviceCanAccessPeer(can, device, peer.device);
        if (can[0] == 0) {
            return false;
        }
        makeCurrent();
        try {
            cuCtxEnablePeerAccess(peer.context, 0);
        } catch (CudaException e) {
            if (!CUresult.stringFor(CUresult.CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED).equals(e.getMessage())) {
                throw e;
            }
        }
        return true;
    }

    /**
     * Enables peer access between every two of {@code contexts} ({@link #enablePeerAccess}), handing each pair with
     * no peer-to-peer path to {@code noPath}: what a missing path means (a refused configuration, a skipped test) is
     * the caller's to say, usually by throwing.
     */
    static void joinAsPeers(List<CudaContext> contexts, BiConsumer<CudaContext, CudaContext> noPath) {
        for (CudaContext from : contexts) {
            for (CudaContext to : contexts) {
                if (!from.enablePeerAccess(to)) {
                    noPath.accept(from, to);
                }
            }
        }
    }

    public int ordinal() {
        return ordinal;
    }

    public String deviceName() {
        return name;
    }

    /** Binds this context to the calling thread; every thread that issues CUDA calls does this first. */
    public void makeCurrent() {
        cuCtxSetCurrent(context);
    }

    /** Free memory of the current context's GPU: make this context current first. */
    public long freeMemory() {
        long[] free = new long[1];
        long[] total = new long[1];
        cuMemGetInfo(free, total);
        return free[0];
    }

    /** Total memory of the current context's GPU: make this context current first. */
    public long totalMemory() {
        long[] free = new long[1];
        long[] total = new long[1];
        cuMemGetInfo(free, total);
        return total[0];
    }

    public CUstream stream() {
        return stream;
    }

    /** Waits for the engine's stream. */
    public void synchronize() {
        cuStreamSynchronize(stream);
    }

    /** Waits for all work of the context, whatever stream issued it. */
    public void synchronizeAll() {
        cuCtxSynchronize();
    }

    @Override
    public void close() {
        makeCurrent();
        cuStreamDestroy(stream);
        cuDevicePrimaryCtxRelease(device);
    }
}
