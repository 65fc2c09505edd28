package io.kindling.cuda;

import io.kindling.backend.BatchInputs;
import io.kindling.backend.DeferredTokens;
import io.kindling.model.ModelConfig;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * A step's device buffers, allocated once for the largest step ({@code maxTokens} tokens, {@code maxRows} logits
 * rows) and reused: the fp32 residual stream, the bf16 GEMM inputs, the fp32 GEMM outputs, the logits, and the
 * step's int32 inputs at fixed addresses (token ids, positions, slots, logits rows, and the deferred tokens' draw and
 * token indices).
 *
 * <p>Buffers whose lives never overlap within a layer share memory: {@code qkv} and gate_up's scratch (fp32), and
 * the attention output and {@code act} (bf16). The gate_up GEMM writes {@code act} itself (SiLU-and-multiply in
 * its epilogue), so its fp32 output exists only as that scratch, and only where hidden_size spans several of the
 * GEMM's K segments.
 */
final class StepBuffers implements AutoCloseable {

    final int maxTokens;
    final int maxRows;
    /** fp32 [n][hidden]: the residual stream. */
    final DeviceBuffer x;
    /** fp32 [n][hidden]: the o_proj or down_proj output, added into {@code x} by the next norm. */
    final DeviceBuffer delta;
    /** bf16 [n][hidden]: the normed input of the qkv and gate_up GEMMs. */
    final DeviceBuffer normed;
    /** fp32 [n][qSize + 2 kvSize], widened to [n][2 inter] where {@link #gateUpScratch} needs it: qkv. */
    final DeviceBuffer wide;
    /** bf16 [n][max(qSize, inter)]: the attention output, later the activated MLP input. */
    final DeviceBuffer narrow;
    /** bf16 [rows][hidden]: the final norm of the logits rows. */
    final DeviceBuffer lastNormed;
    /** fp32 [rows][logitsWidth]. */
    final DeviceBuffer logits;
    /** The logits' row width: the vocabulary, or under tensor parallelism a rank's slice of it. */
    final int logitsWidth;
    private final StagedInts inputs;
    private final boolean gateUpScratch;
    private final List<AutoCloseable> owned = new ArrayList<>();

    /**
     * @param config      the model as one rank computes it (its heads and MLP features)
     * @param logitsWidth the row width of the logits
     */
    StepBuffers(ModelConfig config, int maxTokens, int maxRows, int logitsWidth) {
        this.maxTokens = maxTokens;
        this.maxRows = maxRows;
        this.logitsWidth = logitsWidth;
        long n = maxTokens;
        long h = config.hiddenSize();
        gateUpScratch = Gemm.segments(config.hiddenSize()) > 1;
        long wideWidth = Math.max(config.qSize() + 2L * config.kvSize(),
                gateUpScratch ? 2L * config.intermediateSize() : 0);
        long narrowWidth = Math.max(config.qSize(), config.intermediateSize());
        try {
            x = own(DeviceBuffer.allocate(n * h * Float.BYTES));
            delta = own(DeviceBuffer.allocate(n * h * Float.BYTES));
            normed = own(DeviceBuffer.allocate(n * h * 2));
            wide = own(DeviceBuffer.allocate(n * wideWidth * Float.BYTES));
            narrow = own(DeviceBuffer.allocate(n * narrowWidth * 2));
            lastNormed = own(DeviceBuffer.allocate(maxRows * h * 2));
            logits = own(DeviceBuffer.allocate((long) maxRows * logitsWidth * Float.BYTES));
            inputs = own(new StagedInts(3 * maxTokens + 3 * maxRows));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Writes the step's int32 inputs to pinned memory and queues their one copy to the device; the deferred tokens'
     * indices go with them, for the sampler to fill their input ids on the device.
     */
    void upload(CUstream stream, BatchInputs batch, DeferredTokens deferred) {
        int n = batch.numTokens();
        int m = batch.numLogits();
        if (n > maxTokens || m > maxRows || deferred.size() > maxRows) {
            throw new IllegalArgumentException("step of " + n + " tokens, " + m + " logits rows and "
                    + deferred.size() + " deferred tokens exceeds the buffers for max_num_batched_tokens " + maxTokens
                    + " and max_num_seqs " + maxRows);
        }
        IntBuffer host = inputs.begin();
        // the step's entries only: the arrays may be longer (BatchInputs)
        host.put(0, batch.inputIds(), 0, n);
        host.put(maxTokens, batch.positions(), 0, n);
        host.put(2 * maxTokens, batch.slotMapping(), 0, n);
        host.put(3 * maxTokens, batch.logitsIndices(), 0, m);
        int count = 3 * maxTokens + m;
        if (deferred.size() > 0) {
            host.put(3 * maxTokens + maxRows, deferred.drawIndices(), 0, deferred.size());
            host.put(3 * maxTokens + 2 * maxRows, deferred.tokenIndices(), 0, deferred.size());
            count = 3 * maxTokens + 2 * maxRows + deferred.size();
        }
        inputs.send(stream, count);
    }

    /**
     * The gate_up GEMM's scratch C ({@link Gemm#runSiluMul}): {@code wide}, later in the layer than qkv, where
     * hidden_size exceeds {@link Gemm#ONE_SEGMENT_K}; null where the GEMM needs none.
     */
    CUdeviceptr gateUpScratch() {
        return gateUpScratch ? wide.ptr() : null;
    }

    CUdeviceptr inputIds() {
        return inputs.at(0);
    }

    CUdeviceptr positions() {
        return inputs.at(maxTokens);
    }

    CUdeviceptr slotMapping() {
        return inputs.at(2 * maxTokens);
    }

    CUdeviceptr logitsIndices() {
        return inputs.at(3 * maxTokens);
    }

    CUdeviceptr deferredDrawIndices() {
        return inputs.at(3 * maxTokens + maxRows);
    }

    CUdeviceptr deferredTokenIndices() {
        return inputs.at(3 * maxTokens + 2 * maxRows);
    }

    long bytes() {
        return x.bytes() + delta.bytes() + normed.bytes() + wide.bytes() + narrow.bytes() + lastNormed.bytes()
                + logits.bytes() + 4L * inputs.capacity();
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    @Override
    public void close() {
        Resources.closeAll(owned);
    }
}
