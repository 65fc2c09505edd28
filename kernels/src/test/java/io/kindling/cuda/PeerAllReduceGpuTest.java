package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-parallel all-reduce ({@link PeerAllReduce}: peer copies into staging slots, then {@code kd_sum_partials})
 * against the CPU backend's rule ({@code backend/cpu/AllReduce}: the partials added in rank order,
 * {@code ((p0 + p1) + p2) + ...}) on fresh random partials: bit-exact, the same bits on every rank. The ranks share
 * GPU 0 (each its own stream on the card's context, as {@code cuda:0,0} runs them), so one card checks it; on a host
 * with two GPUs, also across them. Counts that are no multiple of 4 take the kernel's scalar path.
 */
class PeerAllReduceGpuTest {

    private static final int[] COUNTS = {1, 7, 2048, 16 * 2048 + 3, 256 * 4096};
    private static final AtomicLong SEEDS = new AtomicLong(17_000);

    @BeforeAll
    static void requireGpu() {
        assumeTrue(CudaTestSupport.available(), () -> "no CUDA here: " + CudaTestSupport.whyUnavailable());
    }

    static Stream<Arguments> ranksByCount() {
        return IntStream.of(2, 3, 4).boxed().flatMap(n -> IntStream.of(COUNTS).mapToObj(c -> Arguments.of(n, c)));
    }

    @ParameterizedTest(name = "{0} ranks on GPU 0, {1} floats")
    @MethodSource("ranksByCount")
    void sumsInRankOrderOnOneGpu(int numRanks, int count) {
        checkAllReduce(new int[numRanks], count);
    }

    static IntStream counts() {
        return IntStream.of(COUNTS);
    }

    @ParameterizedTest(name = "GPUs 0 and 1, {0} floats")
    @MethodSource("counts")
    void sumsInRankOrderAcrossTwoGpus(int count) {
        assumeTrue(CudaContext.deviceCount() >= 2, "needs two GPUs");
        checkAllReduce(new int[] {0, 1}, count);
    }

    /**
     * Three all-reduces queued back to back with no host wait: each rank's push into a peer's slot must wait for
     * that peer's previous sum to have read it. The second and third sum the ranks' equal results again.
     */
    @Test
    void backToBackAllReducesReuseTheSlotsInOrder() {
        checkAllReduce(new int[3], 2048 * 64, 2048 * 64, 2048 * 64);
    }

    /**
     * Steps of other sizes in turn over the same tensors, as decode and prefill steps alternate: each sums its own
     * count of floats (the arguments are boxed once, the count read at each launch), the rest left as it was.
     */
    @Test
    void allReducesOfOtherSizesSumEachItsOwnCount() {
        checkAllReduce(new int[2], 2048, 7, 16 * 2048 + 3, 1, 2048);
    }

    /**
     * Queues an all-reduce of each of {@code counts} in turn over ranks on {@code ordinals} and checks every rank's
     * tensor against the CPU's rank-order sums; every all-reduce after the first must allocate nothing on the host.
     */
    private static void checkAllReduce(int[] ordinals, int... counts) {
        int n = ordinals.length;
        int size = IntStream.of(counts).max().orElseThrow();
        float[][] partials = new float[n][];
        for (int r = 0; r < n; r++) {
            partials[r] = CudaTestSupport.randomFloats(size, SEEDS.incrementAndGet(), 1f);
        }
        float[][] want = new float[n][];
        for (int r = 0; r < n; r++) {
            want[r] = partials[r].clone();
        }
        for (int count : counts) {
            float[] sum = sumInRankOrder(want, count);
            for (float[] rank : want) {
                System.arraycopy(sum, 0, rank, 0, count);
            }
        }
        List<CudaContext> contexts = new ArrayList<>();
        List<DeviceBuffer> buffers = new ArrayList<>();
        try {
            for (int ordinal : ordinals) {
                contexts.add(CudaContext.create(ordinal));
            }
            CudaContext.joinAsPeers(contexts, (from, to) -> abort("GPUs without peer access"));
            CUdeviceptr[] pointers = new CUdeviceptr[n];
            for (int r = 0; r < n; r++) {
                contexts.get(r).makeCurrent();
                DeviceBuffer b = DeviceBuffer.allocate((long) size * Float.BYTES).copyFrom(partials[r]);
                buffers.add(b);
                pointers[r] = b.ptr();
            }
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            try (PeerAllReduce allReduce = new PeerAllReduce(contexts, pointers, size, rank -> { })) {
                allReduce.queue(counts[0]); // the first loads classes and the thread's launch counter
                long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
                for (int i = 1; i < counts.length; i++) {
                    allReduce.queue(counts[i]);
                }
                long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
                assertEquals(0, allocated, "bytes allocated on the host by " + (counts.length - 1)
                        + " all-reduces after the first");
                for (int r = 0; r < n; r++) {
                    contexts.get(r).makeCurrent();
                    contexts.get(r).synchronize();
                }
            }
            for (int r = 0; r < n; r++) {
                contexts.get(r).makeCurrent();
                float[] got = buffers.get(r).copyTo(new float[size]);
                assertArrayEquals(want[r], got, "rank " + r + " of " + n + " on GPUs "
                        + Arrays.toString(ordinals) + ", all-reduces of " + Arrays.toString(counts) + " floats");
            }
        } finally {
            for (int r = buffers.size() - 1; r >= 0; r--) {
                contexts.get(r).makeCurrent();
                buffers.get(r).close();
            }
            Resources.closeAll(contexts);
            CudaTestSupport.context().makeCurrent();
        }
    }

    /** The CPU backend's order over the first {@code count} floats: {@code ((p0 + p1) + p2) + ...} in float. */
    private static float[] sumInRankOrder(float[][] partials, int count) {
        float[] sum = Arrays.copyOf(partials[0], count);
        for (int r = 1; r < partials.length; r++) {
            for (int i = 0; i < count; i++) {
                sum[i] += partials[r][i];
            }
        }
        return sum;
    }
}
