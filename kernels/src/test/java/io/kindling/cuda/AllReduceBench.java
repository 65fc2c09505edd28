package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyAsync;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;

/**
 * Times the tensor-parallel all-reduce ({@link PeerAllReduce}, as the engine runs it after o_proj and down_proj) on
 * fp32 {@code [m][hidden]} partials, m = 1, 16, 256, 2048 (decode to prefill steps), hidden 2048 and 4096 (the 1B and
 * 8B shapes), next to one peer copy of the same bytes from rank 1 to rank 0: what the link moves, which bounds the
 * all-reduce. Reports the mean of 50 back-to-back runs after warm-up, as nccl-tests does: the all-reduce's
 * {@code algbw} (bytes / time) and {@code busbw} ({@code algbw * 2(N-1)/N}, what each link carries, comparable with
 * the copy's GB/s). {@code --devices 0,1} names the ranks' GPUs (default: 0,1 on a host with two, else 0,0, where
 * the "link" is the card's own memory).
 */
public final class AllReduceBench {

    private static final int WARMUP = 5;
    private static final int RUNS = 50;
    private static final int[] MS = {1, 16, 256, 2048};
    private static final int[] HIDDEN = {2048, 4096};

    private AllReduceBench() {
    }

    public static void main(String[] args) {
        List<String> flags = Arrays.asList(args);
        int devicesFlag = flags.indexOf("--devices");
        String devices;
        try (CudaContext probe = CudaContext.create(0)) { // initializes the driver
            devices = devicesFlag >= 0 ? args[devicesFlag + 1] : CudaContext.deviceCount() >= 2 ? "0,1" : "0,0";
        }
        int[] ordinals = Arrays.stream(devices.split(",")).mapToInt(Integer::parseInt).toArray();
        List<CudaContext> contexts = new ArrayList<>();
        long maxFloats = (long) MS[MS.length - 1] * HIDDEN[HIDDEN.length - 1];
        List<DeviceBuffer> partials = new ArrayList<>();
        try {
            for (int ordinal : ordinals) {
                contexts.add(CudaContext.create(ordinal));
            }
            CudaContext.joinAsPeers(contexts, (from, to) -> {
                throw new IllegalStateException("GPU " + from.ordinal() + " has no peer access to GPU " + to.ordinal());
            });
            for (int r = 0; r < ordinals.length; r++) {
                contexts.get(r).makeCurrent();
                partials.add(DeviceBuffer.allocate(maxFloats * Float.BYTES)
                        .copyFrom(CudaTestSupport.randomFloats((int) maxFloats, 1 + r, 1f)));
            }
            run(contexts, partials, maxFloats, devices);
        } finally {
            for (int r = partials.size() - 1; r >= 0; r--) {
                contexts.get(r).makeCurrent();
                partials.get(r).close();
            }
            Resources.closeAll(contexts);
        }
    }

    private static void run(List<CudaContext> contexts, List<DeviceBuffer> partials, long maxFloats, String devices) {
        int n = contexts.size();
        CUdeviceptr[] pointers = partials.stream().map(DeviceBuffer::ptr).toArray(CUdeviceptr[]::new);
        System.out.println("# all-reduce bench: " + n + " ranks on GPUs " + devices + " ("
                + contexts.get(0).deviceName() + "), fp32 [m][hidden], mean of " + RUNS + " runs");
        System.out.printf("%6s %6s %10s %12s %10s %10s %12s %10s%n", "m", "hidden", "MiB", "allreduce_us", "algbw",
                "busbw", "peercopy_us", "copy_GB/s");
        try (PeerAllReduce allReduce = new PeerAllReduce(contexts, pointers, maxFloats, rank -> { });
             Timer allReduceTimer = new Timer(contexts);
             Timer copyTimer = new Timer(contexts)) {
            for (int hidden : HIDDEN) {
                for (int m : MS) {
                    long count = (long) m * hidden;
                    long bytes = count * Float.BYTES;
                    double allReduceUs = allReduceTimer.time(() -> allReduce.queue(count));
                    // rank 1's partial into rank 0's, on rank 1's stream, as a push of the all-reduce runs
                    CudaContext from = contexts.get(1);
                    double copyUs = copyTimer.time(() -> {
                        from.makeCurrent();
                        cuMemcpyAsync(pointers[0], pointers[1], bytes, from.stream());
                    });
                    double algbw = bytes / allReduceUs / 1e3;
                    System.out.printf("%6d %6d %10.3f %12.1f %10.1f %10.1f %12.1f %10.1f%n", m, hidden,
                            bytes / (double) (1 << 20), allReduceUs, algbw, algbw * 2 * (n - 1) / n, copyUs,
                            bytes / copyUs / 1e3);
                }
            }
        }
    }

    /**
     * Times work queued on every rank's stream: all streams start behind one event on rank 0's, and the stop event
     * on rank 0's waits for every other stream's end.
     */
    private static final class Timer implements AutoCloseable {
        private final List<CudaContext> contexts;
        private final CUevent start = new CUevent();
        private final CUevent stop = new CUevent();
        private final List<CUevent> ends = new ArrayList<>();

        Timer(List<CudaContext> contexts) {
            this.contexts = contexts;
            contexts.get(0).makeCurrent();
            cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
            cuEventCreate(stop, CUevent_flags.CU_EVENT_DEFAULT);
            for (CudaContext c : contexts) {
                c.makeCurrent();
                CUevent end = new CUevent();
                cuEventCreate(end, CUevent_flags.CU_EVENT_DISABLE_TIMING);
                ends.add(end);
            }
        }

        /** Mean microseconds of one {@code queue} over {@link #RUNS} back-to-back runs, after warm-up. */
        double time(Runnable queue) {
            for (int i = 0; i < WARMUP; i++) {
                queue.run();
            }
            for (CudaContext c : contexts) {
                c.makeCurrent();
                c.synchronize();
            }
            CudaContext first = contexts.get(0);
            first.makeCurrent();
            cuEventRecord(start, first.stream());
            for (CudaContext c : contexts) {
                c.makeCurrent();
                cuStreamWaitEvent(c.stream(), start, 0);
            }
            for (int i = 0; i < RUNS; i++) {
                queue.run();
            }
            for (int r = 0; r < contexts.size(); r++) {
                contexts.get(r).makeCurrent();
                cuEventRecord(ends.get(r), contexts.get(r).stream());
            }
            first.makeCurrent();
            for (CUevent end : ends) {
                cuStreamWaitEvent(first.stream(), end, 0);
            }
            cuEventRecord(stop, first.stream());
            cuEventSynchronize(stop);
            float[] ms = new float[1];
            cuEventElapsedTime(ms, start, stop);
            return ms[0] * 1e3 / RUNS;
        }

        @Override
        public void close() {
            contexts.get(0).makeCurrent();
            cuEventDestroy(start);
            cuEventDestroy(stop);
            for (int r = 0; r < ends.size(); r++) {
                contexts.get(r).makeCurrent();
                cuEventDestroy(ends.get(r));
            }
        }
    }
}
