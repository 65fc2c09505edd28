package io.kindling.cuda;

import jcuda.driver.CUstream;

/**
 * Where the host is in queuing a step: which op of which layer on which rank, to name a failed launch, and the
 * profiler's op boundaries. The profiler times rank 0's stream only (its events live in rank 0's context); under
 * tensor parallelism that stream's all-reduce time includes waiting for the other ranks.
 */
final class StepMarks {

    /** What a step is doing, to name the failed operation in an error. */
    enum Op {
        UPLOAD("uploading the step's inputs", "upload"), PREPARE("planning attention", "upload"),
        BROADCAST_INPUT_IDS("copying the sampled input ids to the other ranks", "upload"),
        EMBEDDING("embedding", "embedding"), INPUT_NORM("input RMSNorm", "rms norm"),
        QKV("qkv projection", "gemm qkv"), QKV_BIAS("qkv bias", "bias"),
        ROTARY_CACHE("rotary embedding and writing K/V into the cache", "rotary+kv write"),
        ATTENTION("paged attention", "attention"),
        O_PROJ("o_proj", "gemm o"), O_ALL_REDUCE("o_proj all-reduce", "all-reduce"), O_BIAS("o_proj bias", "bias"),
        POST_NORM("post-attention RMSNorm", "rms norm"),
        GATE_UP("gate_up projection with SiLU and multiply", "gemm gate_up+silu"), DOWN("down_proj", "gemm down"),
        DOWN_ALL_REDUCE("down_proj all-reduce", "all-reduce"), DOWN_BIAS("down_proj bias", "bias"),
        FINAL_NORM("final RMSNorm", "rms norm"), LM_HEAD("LM head", "lm head"),
        GATHER_LOGITS("gathering the logits' vocabulary slices", "lm head"),
        GRAPH("replaying the decode graph", "graph");

        final String description;
        /** The op family the profile adds this op's device time to. */
        final String family;

        Op(String description, String family) {
            this.description = description;
            this.family = family;
        }
    }

    private final OpProfiler profiler;
    private final CUstream markedStream;
    private final CudaDevices devices;
    private Op op;
    private int layer;
    private int rank;

    /** @param markedStream rank 0's stream, which the profiler times */
    StepMarks(OpProfiler profiler, CUstream markedStream, CudaDevices devices) {
        this.profiler = profiler;
        this.markedStream = markedStream;
        this.devices = devices;
    }

    /** The host now queues {@code op} of {@code layer} (-1: none) on rank {@code rank}. */
    void at(int rank, Op op, int layer) {
        this.rank = rank;
        this.op = op;
        this.layer = layer;
        if (rank == 0) {
            profiler.mark(markedStream, op.family);
        }
    }

    /**
     * The host goes on queuing the current op on rank {@code rank}: an exchange between the ranks moves from one to
     * the next, so that a failed call names the rank it was queued on, not the rank that began the op.
     */
    void on(int rank) {
        this.rank = rank;
    }

    /** The op last queued, as an error names it: "o_proj of layer 3", and its rank where there are several. */
    String describe() {
        if (op == null) {
            return "starting a step";
        }
        return op.description + (layer >= 0 ? " of layer " + layer : "")
                + (devices.size() > 1 ? " on " + devices.name(rank) : "");
    }
}
