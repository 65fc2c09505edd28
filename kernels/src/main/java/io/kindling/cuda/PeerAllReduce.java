package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuMemcpyAsync;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;

/**
 * The all-reduce after a row-parallel projection (o_proj, down_proj): every rank's fp32 partial sum becomes, in
 * place, the sum of all ranks' partials, added in rank order ({@code all_reduce.cu}'s {@code kd_sum_partials}) so
 * that every rank holds the same bits whatever the batch. Each rank pushes its partial to each peer's staging slot
 * with a peer copy on its own stream (a plain {@code cuMemcpyAsync}: with unified addressing the driver sees the two
 * GPUs in the pointers and copies over NVLink or PCIe once peer access is enabled, and the same call serves ranks that
 * share a GPU), then each rank sums its own partial and the slots. At two ranks this moves what a ring or one-shot
 * NCCL all-reduce moves (each rank sends and receives its partial once) without NCCL's library, which JCuda does not
 * bind.
 *
 * <p>Ordering across the ranks' streams goes through events, never the host: a rank's sum waits for every peer's
 * push ({@code sent}), and a push waits until the peer's previous sum has read its slot ({@code reduced}). Nothing
 * here synchronizes, so the host queues the ranks' layers one after another while the GPUs run them.
 *
 * <p>The tensors reduced are fixed at construction (each rank's step buffer), so the copies' addresses and the sums'
 * launch arguments are worked out once: queuing an all-reduce allocates nothing on the host, as a steady decode
 * step must not (two a layer at N > 1).
 */
final class PeerAllReduce implements AutoCloseable {

    /** kd_sum_partials takes this many part pointers. */
    static final int MAX_RANKS = 8;
    private static final int THREADS = 256;
    /** Enough blocks of the grid-stride sum to keep any current GPU's copy bandwidth busy. */
    private static final int MAX_BLOCKS = 1024;

    private final List<CudaContext> ranks;
    /** Each rank's tensor, summed in place. */
    private final CUdeviceptr[] partials;
    private final long maxFloats;
    private final List<CUfunction> sum = new ArrayList<>();
    /**
     * {@code slot[rank][from]}: where {@code rank} receives {@code from}'s partial, null where they are one: each
     * rank's {@code N - 1} slots of {@code maxFloats} in one buffer, in rank order.
     */
    private final CUdeviceptr[][] slot;
    /** Per rank: kd_sum_partials' arguments, boxed once; {@link #sumCount} is read at each launch. */
    private final Pointer[] sumArguments;
    /** kd_sum_partials' count of floats: the one argument that changes from call to call. */
    private final long[] sumCount = new long[1];
    private final List<CUevent> sent = new ArrayList<>();
    private final List<CUevent> reduced = new ArrayList<>();
    private final ContextResources resources = new ContextResources();
    private final IntConsumer onRank;

    /**
     * Loads the kernel and allocates the slots in each rank's context (which {@link CudaContext#joinAsPeers}
     * has joined to the others).
     *
     * @param partials  each rank's tensor, in its rank's memory, which every {@link #queue} sums in place
     * @param maxFloats the largest tensor reduced, in fp32 values
     * @param onRank    told each rank before the host queues that rank's copies or sum, so that a failed call can be
     *                  named by the rank it was queued on ({@link StepMarks#on})
     */
    PeerAllReduce(List<CudaContext> ranks, CUdeviceptr[] partials, long maxFloats, IntConsumer onRank) {
        int n = ranks.size();
        if (n < 2 || n > MAX_RANKS || partials.length != n) {
            throw new IllegalArgumentException("an all-reduce of " + partials.length + " partials over " + n
                    + " ranks; 2 to " + MAX_RANKS + " ranks are supported, one partial each");
        }
        this.ranks = List.copyOf(ranks);
        this.partials = partials.clone();
        this.maxFloats = maxFloats;
        this.onRank = onRank;
        List<DeviceBuffer> slots = new ArrayList<>();
        try {
            for (CudaContext rank : ranks) {
                rank.makeCurrent();
                sum.add(KernelModule.load("all_reduce").function("kd_sum_partials"));
                slots.add(resources.own(rank, DeviceBuffer.allocate((n - 1) * maxFloats * Float.BYTES)));
                sent.add(resources.event(rank));
                reduced.add(resources.event(rank));
            }
            slot = new CUdeviceptr[n][n];
            for (int r = 0; r < n; r++) {
                for (int from = 0; from < n; from++) {
                    int index = from < r ? from : from - 1;
                    slot[r][from] = from == r ? null : slots.get(r).at(index * maxFloats * Float.BYTES);
                }
            }
            sumArguments = new Pointer[n];
            for (int r = 0; r < n; r++) {
                Object[] args = new Object[MAX_RANKS + 3];
                args[0] = partials[r];
                for (int part = 0; part < MAX_RANKS; part++) {
                    args[1 + part] = part >= n ? new CUdeviceptr() : part == r ? partials[r] : slot[r][part];
                }
                args[MAX_RANKS + 1] = n;
                args[MAX_RANKS + 2] = sumCount;
                sumArguments[r] = Launch.arguments(args);
            }
        } catch (RuntimeException | Error e) {
            resources.closeAfter(e);
            throw e;
        }
    }

    /**
     * Queues {@code partials[r] = partials[0] + ... + partials[N-1]} on every rank {@code r}, over the first
     * {@code count} floats. Each rank's partial must be complete in its stream's order; afterwards each rank's stream
     * holds the sum. Leaves the last rank's context current.
     */
    void queue(long count) {
        if (count < 1 || count > maxFloats) {
            throw new IllegalArgumentException("all-reduce of " + count + " floats with slots of " + maxFloats);
        }
        sumCount[0] = count;
        long bytes = count * Float.BYTES;
        int n = ranks.size();
        for (int r = 0; r < n; r++) {
            onRank.accept(r);
            CudaContext from = ranks.get(r);
            from.makeCurrent();
            for (int peer = 0; peer < n; peer++) {
                if (peer != r) {
                    cuStreamWaitEvent(from.stream(), reduced.get(peer), 0);
                    cuMemcpyAsync(slot[peer][r], partials[r], bytes, from.stream());
                }
            }
            cuEventRecord(sent.get(r), from.stream());
        }
        int blocks = (int) Math.min(MAX_BLOCKS, (count / 4 + THREADS - 1) / THREADS + 1);
        for (int r = 0; r < n; r++) {
            onRank.accept(r);
            CudaContext at = ranks.get(r);
            at.makeCurrent();
            for (int peer = 0; peer < n; peer++) {
                if (peer != r) {
                    cuStreamWaitEvent(at.stream(), sent.get(peer), 0);
                }
            }
            Launch.prepared(sum.get(r), at.stream(), blocks, 1, 1, THREADS, 0, sumArguments[r]);
            cuEventRecord(reduced.get(r), at.stream());
        }
    }

    /** Frees the slots and events; the caller has synchronized the ranks' streams. */
    @Override
    public void close() {
        resources.close();
    }
}
