package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
        checkAllReduce(new int[numRanks], count, 1);
    }

    static IntStream counts() {
        return IntStream.of(COUNTS);
    }

    @ParameterizedTest(name = "GPUs 0 and 1, {0} floats")
    @MethodSource("counts")
    void sumsInRankOrderAcrossTwoGpus(int count) {
        assumeTrue(CudaContext.deviceCount() >= 2, "needs two GPUs");
        checkAllReduce(new int[] {0, 1}, count, 1);
    }

    /**
     * Three all-reduces queued back to back with no host wait: each rank's push into a peer's slot must wait for
     * that peer's previous sum to have read it. The second and third sum the ranks' equal results again.
     */
    @Test
    void backToBackAllReducesReuseTheSlotsInOrder() {
        checkAllReduce(new int[3], 2048 * 64, 3);
    }

    private static void checkAllReduce(int[] ordinals, int count, int repeats) {
        int n = ordinals.length;
        float[][] partials = new float[n][];
        for (int r = 0; r < n; r++) {
            partials[r] = CudaTestSupport.randomFloats(count, SEEDS.incrementAndGet(), 1f);
        }
        float[] want = sumInRankOrder(partials);
        for (int i = 1; i < repeats; i++) {
            float[][] equal = new float[n][];
            Arrays.fill(equal, want);
            want = sumInRankOrder(equal);
        }
        List<CudaContext> contexts = new ArrayList<>();
        List<DeviceBuffer> buffers = new ArrayList<>();
        try {
            for (int ordinal : ordinals) {
                contexts.add(CudaContext.create(ordinal));
            }
            for (CudaContext from : contexts) {
                for (CudaContext to : contexts) {
                    assumeTrue(from.enablePeerAccess(to), "GPUs without peer access");
                }
            }
            CUdeviceptr[] pointers = new CUdeviceptr[n];
            for (int r = 0; r < n; r++) {
                contexts.get(r).makeCurrent();
                DeviceBuffer b = DeviceBuffer.allocate((long) count * Float.BYTES).copyFrom(partials[r]);
                buffers.add(b);
                pointers[r] = b.ptr();
            }
            try (PeerAllReduce allReduce = new PeerAllReduce(contexts, count, rank -> { })) {
                for (int i = 0; i < repeats; i++) {
                    allReduce.queue(pointers, count);
                }
                for (int r = 0; r < n; r++) {
                    contexts.get(r).makeCurrent();
                    contexts.get(r).synchronize();
                }
            }
            for (int r = 0; r < n; r++) {
                contexts.get(r).makeCurrent();
                float[] got = buffers.get(r).copyTo(new float[count]);
                assertArrayEquals(want, got, "rank " + r + " of " + n + " on GPUs "
                        + Arrays.toString(ordinals) + ", " + count + " floats, " + repeats + " in a row");
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

    /** The CPU backend's order: {@code ((p0 + p1) + p2) + ...} in float. */
    private static float[] sumInRankOrder(float[][] partials) {
        float[] sum = partials[0].clone();
        for (int r = 1; r < partials.length; r++) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += partials[r][i];
            }
        }
        return sum;
    }
}
