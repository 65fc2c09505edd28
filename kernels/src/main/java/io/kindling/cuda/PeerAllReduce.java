package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuMemcpyAsync;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
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
 */
final class PeerAllReduce implements AutoCloseable {

    /** kd_sum_partials takes this many part pointers. */
    static final int MAX_RANKS = 8;
    private static final int THREADS = 256;
    /** Enough blocks of the grid-stride sum to keep any current GPU's copy bandwidth busy. */
    private static final int MAX_BLOCKS = 1024;

    private final List<CudaContext> ranks;
    private final long maxFloats;
    private final List<CUfunction> sum = new ArrayList<>();
    /** Per rank: {@code N - 1} slots of {@code maxFloats}, one per peer in rank order, itself left out. */
    private final List<DeviceBuffer> slots = new ArrayList<>();
    private final List<CUevent> sent = new ArrayList<>();
    private final List<CUevent> reduced = new ArrayList<>();
    private final ContextResources resources = new ContextResources();
    private final IntConsumer onRank;

    /**
     * Loads the kernel and allocates the slots in each rank's context (which {@link CudaContext#enablePeerAccess}
     * has joined to the others).
     *
     * @param maxFloats the largest tensor reduced, in fp32 values
     * @param onRank    told each rank before the host queues that rank's copies or sum, so that a failed call can be
     *                  named by the rank it was queued on ({@link StepMarks#on})
     */
    PeerAllReduce(List<CudaContext> ranks, long maxFloats, IntConsumer onRank) {
        if (ranks.size() < 2 || ranks.size() > MAX_RANKS) {
            throw new IllegalArgumentException("an all-reduce over " + ranks.size() + " ranks; 2 to " + MAX_RANKS
                    + " are supported");
        }
        this.ranks = List.copyOf(ranks);
        this.maxFloats = maxFloats;
        this.onRank = onRank;
        try {
            for (CudaContext rank : ranks) {
                rank.makeCurrent();
                sum.add(KernelModule.load("all_reduce").function("kd_sum_partials"));
                slots.add(resources.own(rank, DeviceBuffer.allocate((ranks.size() - 1) * maxFloats * Float.BYTES)));
                sent.add(resources.event(rank));
                reduced.add(resources.event(rank));
            }
        } catch (RuntimeException | Error e) {
            resources.closeAfter(e);
            throw e;
        }
    }

    /**
     * Queues {@code partials[r] = partials[0] + ... + partials[N-1]} on every rank {@code r}, over {@code count}
     * floats. Each rank's partial must be complete in its stream's order; afterwards each rank's stream holds the
     * sum. Leaves the last rank's context current.
     */
    void queue(CUdeviceptr[] partials, long count) {
        if (partials.length != ranks.size() || count < 1 || count > maxFloats) {
            throw new IllegalArgumentException("all-reduce of " + partials.length + " partials of " + count
                    + " floats over " + ranks.size() + " ranks with slots of " + maxFloats);
        }
        long bytes = count * Float.BYTES;
        int n = ranks.size();
        for (int r = 0; r < n; r++) {
            onRank.accept(r);
            CudaContext from = ranks.get(r);
            from.makeCurrent();
            for (int peer = 0; peer < n; peer++) {
                if (peer != r) {
                    cuStreamWaitEvent(from.stream(), reduced.get(peer), 0);
                    cuMemcpyAsync(slot(peer, r), partials[r], bytes, from.stream());
                }
            }
            cuEventRecord(sent.get(r), from.stream());
        }
        Object[] args = new Object[MAX_RANKS + 3];
        for (int r = 0; r < n; r++) {
            onRank.accept(r);
            CudaContext at = ranks.get(r);
            at.makeCurrent();
            args[0] = partials[r];
            for (int part = 0; part < MAX_RANKS; part++) {
                args[1 + part] = part >= n ? new CUdeviceptr() : part == r ? partials[r] : slot(r, part);
            }
            args[MAX_RANKS + 1] = n;
            args[MAX_RANKS + 2] = count;
            for (int peer = 0; peer < n; peer++) {
                if (peer != r) {
                    cuStreamWaitEvent(at.stream(), sent.get(peer), 0);
                }
            }
            int blocks = (int) Math.min(MAX_BLOCKS, (count / 4 + THREADS - 1) / THREADS + 1);
            Launch.kernel(sum.get(r), at.stream(), blocks, 1, 1, THREADS, 0, args);
            cuEventRecord(reduced.get(r), at.stream());
        }
    }

    /** Where rank {@code rank} receives {@code from}'s partial. */
    private CUdeviceptr slot(int rank, int from) {
        int index = from < rank ? from : from - 1;
        return slots.get(rank).at(index * maxFloats * Float.BYTES);
    }

    /** Frees the slots and events; the caller has synchronized the ranks' streams. */
    @Override
    public void close() {
        resources.close();
    }
}
