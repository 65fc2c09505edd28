package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;

import java.util.Objects;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * A step's fp32 logits {@code [numRows][vocabSize]}, left on the GPU where the {@code GpuSampler} reads them.
 * They live in the backend's step buffer, so they expire when the next step starts; the backend keeps one view over
 * that buffer and refills it with each forward pass (a view a step would be a per-step allocation).
 */
final class CudaLogits implements DeviceLogits {

    private final CudaContext context;
    private final CUdeviceptr data;
    private final int vocabSize;
    private int numRows;
    private boolean expired = true;

    /** Expired until the first {@link #refill}. */
    CudaLogits(CudaContext context, CUdeviceptr data, int vocabSize) {
        this.context = context;
        this.data = data;
        this.vocabSize = vocabSize;
    }

    /** The buffer now holds a new step's {@code numRows} rows. */
    void refill(int numRows) {
        this.numRows = numRows;
        expired = false;
    }

    @Override
    public int numRows() {
        return numRows;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public CUdeviceptr pointer() {
        checkLive();
        return data;
    }

    /** Waits for the step, then copies row {@code i} to the heap. */
    @Override
    public float[] row(int i) {
        Objects.checkIndex(i, numRows);
        checkLive();
        float[] row = new float[vocabSize];
        try {
            context.makeCurrent();
            context.synchronize();
            cuMemcpyDtoH(Pointer.to(row), data.withByteOffset((long) i * vocabSize * Float.BYTES),
                    (long) vocabSize * Float.BYTES);
        } catch (CudaException e) {
            throw new CudaBackendException("the step computing these logits, or copying logits row " + i + ",", e);
        }
        return row;
    }

    /** Called when the next step overwrites the buffer. */
    void expire() {
        expired = true;
    }

    private void checkLive() {
        if (expired) {
            throw new IllegalStateException("these logits belong to an earlier step; the buffer holds a later one");
        }
    }
}
