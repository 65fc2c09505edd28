package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;

import io.kindling.backend.BatchInputs;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;

/**
 * Decode steps as CUDA graphs, as vLLM replays them: a step whose every sequence has one query token is padded to a
 * batch-size bucket (1, 2, 4, 8, then steps of 8 up to 256 and of 32 beyond, capped at {@code maxNumSeqs}) and a
 * block-table stride bucket (powers of two), and replays the graph captured for that pair the first time it was
 * seen. The graph holds the launches of the whole forward pass; what changes from step to step (token ids,
 * positions, slots, block tables, context lengths) is uploaded beforehand into the fixed device buffers those
 * launches read.
 *
 * <p>Padding sequences have token 0 at position 0, slot -1 (the K/V write skips it), a context of 1 in block 0
 * and a logits row of their own that nobody samples: harmless, and their cost is the bucket's rounding.
 */
final class DecodeGraphs implements AutoCloseable {

    /** The launch shape a graph was captured with and what it replays, by (bucket, stride). */
    private record Captured(AttentionPlan.LaunchShape launchShape, CUgraphExec exec) {
    }

    private static final int MIN_STRIDE = 16;
    /** A padding sequence's block table: block 0, which it reads and never writes. */
    private static final int[] EMPTY_TABLE = {0};

    private final int maxBucket;
    private final int maxStride;
    private final Map<Long, Captured> graphs = new HashMap<>();
    /** The last padded step ({@link #pad}). */
    private final BatchInputs padded = new BatchInputs();

    /**
     * @param maxBucket the largest batch a step may have (the step buffers' rows)
     * @param maxStride the longest block table a sequence may have
     */
    DecodeGraphs(int maxBucket, int maxStride) {
        this.maxBucket = maxBucket;
        this.maxStride = maxStride;
    }

    int maxBucket() {
        return maxBucket;
    }

    /** How many graphs may be captured at most: every batch bucket with every stride bucket. */
    int maxGraphs() {
        int buckets = 0;
        for (int n = 1; n <= maxBucket; n = bucket(n) + 1) {
            buckets++;
        }
        int strides = 0;
        for (int blocks = 1; blocks <= maxStride; blocks = strideBucket(blocks) + 1) {
            strides++;
        }
        return buckets * strides;
    }

    /** Whether a step can replay a graph: one query token per sequence, each sampling. */
    static boolean isDecodeOnly(BatchInputs batch) {
        return batch.numTokens() == batch.numSeqs() && batch.numLogits() == batch.numSeqs();
    }

    /** The padded batch size for {@code numSeqs} decode sequences: 1, 2, 4, 8, 16, 24, ..., 256, 288, ... */
    int bucket(int numSeqs) {
        int b;
        if (numSeqs <= 1) {
            b = 1;
        } else if (numSeqs <= 8) {
            b = Integer.highestOneBit(numSeqs - 1) << 1;
        } else if (numSeqs <= 256) {
            b = (numSeqs + 7) / 8 * 8;
        } else {
            b = (numSeqs + 31) / 32 * 32;
        }
        return Math.min(b, maxBucket);
    }

    /** The block-table stride for a step whose longest sequence holds {@code blocks} blocks: a power of two. */
    int strideBucket(int blocks) {
        int stride = blocks <= MIN_STRIDE ? MIN_STRIDE : Integer.highestOneBit(blocks - 1) << 1;
        return Math.min(stride, maxStride);
    }

    /**
     * {@code batch}, a decode-only step, padded with harmless sequences to {@code bucket} sequences: {@code batch}
     * itself where it fills the bucket, else inputs this instance refills at every call.
     */
    BatchInputs pad(BatchInputs batch, int bucket) {
        int n = batch.numSeqs();
        if (bucket == n) {
            return batch;
        }
        padded.reset(bucket, bucket, bucket);
        System.arraycopy(batch.inputIds(), 0, padded.inputIds(), 0, n);
        System.arraycopy(batch.positions(), 0, padded.positions(), 0, n);
        System.arraycopy(batch.slotMapping(), 0, padded.slotMapping(), 0, n);
        System.arraycopy(batch.seqLens(), 0, padded.seqLens(), 0, n);
        System.arraycopy(batch.blockTables(), 0, padded.blockTables(), 0, n);
        for (int i = n; i < bucket; i++) {
            padded.inputIds()[i] = 0;
            padded.positions()[i] = 0;
            padded.slotMapping()[i] = -1;
            padded.seqLens()[i] = 1;
            padded.blockTables()[i] = EMPTY_TABLE;
        }
        for (int i = 0; i < bucket; i++) {
            padded.queryStartLoc()[i] = i;
            padded.logitsIndices()[i] = i;
        }
        padded.queryStartLoc()[bucket] = bucket;
        return padded;
    }

    /**
     * Launches the graph of ({@code bucket}, {@code stride}) on {@code stream}, capturing it from {@code body} first
     * if this pair has not been seen. {@code launchShape} is what the attention launches of this step depend on: a
     * graph replayed for a different one would run stale launch arguments, so that is refused.
     *
     * @return whether the graph was captured now
     */
    boolean replay(CUstream stream, int bucket, int stride, AttentionPlan.LaunchShape launchShape, Runnable body) {
        long key = (long) bucket << 32 | stride;
        Captured captured = graphs.get(key);
        boolean capture = captured == null;
        if (capture) {
            captured = new Captured(launchShape, capture(stream, body));
            graphs.put(key, captured);
        } else if (!captured.launchShape().equals(launchShape)) {
            throw new IllegalStateException("decode graph of batch " + bucket + " and stride " + stride
                    + " was captured for attention launches " + captured.launchShape() + ", this step needs "
                    + launchShape);
        }
        cuGraphLaunch(captured.exec(), stream);
        return capture;
    }

    private static CUgraphExec capture(CUstream stream, Runnable body) {
        CUgraph graph = new CUgraph();
        cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            body.run();
        } finally {
            cuStreamEndCapture(stream, graph); // ends the capture even when the body failed
        }
        try {
            CUgraphExec exec = new CUgraphExec();
            cuGraphInstantiate(exec, graph, 0);
            return exec;
        } finally {
            cuGraphDestroy(graph);
        }
    }

    /** Graphs captured so far. */
    int size() {
        return graphs.size();
    }

    @Override
    public void close() {
        for (Captured c : graphs.values()) {
            cuGraphExecDestroy(c.exec());
        }
        graphs.clear();
    }
}
