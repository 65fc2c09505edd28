package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuMemcpy2DAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyAsync;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUmemorytype;

/**
 * What tensor-parallel ranks exchange within a step, by peer copies (as {@link PeerAllReduce} makes them) and events,
 * with no host synchronization: the all-reduce of the row-parallel projections' partial sums, the sampled input ids
 * that the previous step left on rank 0 ({@link #broadcastInputIds}), and the gather of the ranks' vocabulary slices
 * of the logits into rank 0's logits buffer, where {@code GpuSampler} reads whole rows ({@link #gatherLogits}).
 *
 * <p>The two copies at a step's edges need no fence of their own against the next step: every layer's all-reduces
 * make each rank wait for every other rank's work queued before them, so when rank 0 uploads the next step's ids
 * (or rank r writes the next step's logits), the peer that read them this step has long passed that point.
 */
final class PeerExchange implements AutoCloseable {

    private final CudaRank[] ranks;
    private final PeerAllReduce allReduce;
    /** On rank 0: the step's input ids are complete (the sampled ones written). */
    private final CUevent inputIdsReady;
    /** Per rank (0 unused): its LM head slice is written. */
    private final CUevent[] lmHeadDone;
    /** On rank 0: one other rank's logits slice on its way into the logits buffer's columns. */
    private final DeviceBuffer gathered;
    private final CUDA_MEMCPY2D columns = new CUDA_MEMCPY2D();
    private final ContextResources resources = new ContextResources();
    /** Told which rank each copy or launch is queued on: the op is marked by the caller. */
    private final StepMarks marks;

    PeerExchange(CudaRank[] ranks, int maxTokens, int maxRows, StepMarks marks) {
        this.ranks = ranks.clone();
        this.marks = marks;
        int n = ranks.length;
        this.lmHeadDone = new CUevent[n];
        int hidden = ranks[0].local.hiddenSize();
        int widestSlice = 0;
        CUdeviceptr[] deltas = new CUdeviceptr[n]; // where o_proj and down_proj leave their partial sums
        for (CudaRank r : ranks) {
            deltas[r.rank] = r.buffers.delta.ptr();
            widestSlice = Math.max(widestSlice, r.vocab.size());
        }
        List<CudaContext> contexts = new ArrayList<>();
        for (CudaRank r : ranks) {
            contexts.add(r.context);
        }
        try {
            allReduce = resources.own(ranks[0].context, new PeerAllReduce(contexts, deltas, (long) maxTokens * hidden,
                    marks::on));
            for (int r = 1; r < n; r++) {
                lmHeadDone[r] = resources.event(ranks[r].context);
            }
            inputIdsReady = resources.event(ranks[0].context);
            ranks[0].context.makeCurrent();
            gathered = resources.own(ranks[0].context,
                    DeviceBuffer.allocate((long) maxRows * widestSlice * Float.BYTES));
        } catch (RuntimeException | Error e) {
            resources.closeAfter(e);
            throw e;
        }
        columns.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        columns.srcDevice = gathered.ptr();
        columns.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        columns.dstDevice = ranks[0].buffers.logits.ptr();
        columns.dstPitch = (long) ranks[0].buffers.logitsWidth * Float.BYTES;
    }

    /** Queues the all-reduce of the ranks' {@code delta} over {@code n} tokens. Leaves some rank's context current. */
    void allReduceDeltas(int n) {
        allReduce.queue((long) n * ranks[0].local.hiddenSize());
    }

    /**
     * After rank 0 wrote the sampled tokens into its input ids: queues their copy to every other rank, over its own
     * upload of the step's ids from the host (whose sampled entries are placeholders). Leaves the last rank's
     * context current.
     */
    void broadcastInputIds(int n) {
        CudaRank first = ranks[0];
        first.context.makeCurrent();
        cuEventRecord(inputIdsReady, first.stream());
        for (int r = 1; r < ranks.length; r++) {
            marks.on(r);
            CudaRank to = ranks[r];
            to.context.makeCurrent();
            cuStreamWaitEvent(to.stream(), inputIdsReady, 0);
            cuMemcpyAsync(to.buffers.inputIds(), first.buffers.inputIds(), (long) n * Integer.BYTES, to.stream());
        }
    }

    /**
     * After every rank's LM head: queues on rank 0 the copy of each other rank's {@code [m][slice]} logits into its
     * columns of rank 0's {@code [m][vocab]} buffer, a peer copy into rank 0's memory, then a strided copy there.
     * Leaves rank 0's context current, as the sampler needs it.
     */
    void gatherLogits(int m) {
        for (int r = 1; r < ranks.length; r++) {
            marks.on(r);
            ranks[r].context.makeCurrent();
            cuEventRecord(lmHeadDone[r], ranks[r].stream());
        }
        CudaRank first = ranks[0];
        marks.on(0);
        first.context.makeCurrent();
        for (int r = 1; r < ranks.length; r++) {
            CudaRank from = ranks[r];
            long rowBytes = (long) from.vocab.size() * Float.BYTES;
            cuStreamWaitEvent(first.stream(), lmHeadDone[r], 0);
            cuMemcpyAsync(gathered.ptr(), from.buffers.logits.ptr(), m * rowBytes, first.stream());
            columns.srcPitch = rowBytes;
            columns.dstXInBytes = (long) from.vocab.start() * Float.BYTES;
            columns.WidthInBytes = rowBytes;
            columns.Height = m;
            cuMemcpy2DAsync(columns, first.stream());
        }
    }

    /** Frees the buffers and events; the caller has synchronized the ranks' streams. */
    @Override
    public void close() {
        resources.close();
    }
}
