package io.kindling.backend;

import io.kindling.model.ModelConfig;
import io.kindling.model.Weights;

/** The model in float32 on the CPU, reading K/V only through block tables. */
public final class CpuBackend implements Backend {

    public CpuBackend(ModelConfig config, Weights weights, int numThreads) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public String device() {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public long kvCacheBytesPerBlock(int blockSize) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public float[][] forward(BatchInputs batch) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void close() {
    }
}
