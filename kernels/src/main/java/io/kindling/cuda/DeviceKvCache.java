package io.kindling.cuda;

import io.kindling.model.ModelConfig;
import jcuda.driver.CUdeviceptr;

/**
 * The paged KV cache of every layer in one allocation, bf16: layer {@code l}'s K is
 * {@code [numBlocks][numKvHeads][blockSize][headDim]} at element {@code 2l * numBlocks * blockElems}, its V right
 * after, so one copy kernel over block ids serves all layers.
 */
final class DeviceKvCache implements AutoCloseable {

    private static final int BF16_BYTES = 2;

    final int numBlocks;
    final int blockSize;
    /** Elements of one block of one layer's K (or V): {@code numKvHeads * blockSize * headDim}. */
    final long blockElems;
    private final DeviceBuffer memory;

    private DeviceKvCache(DeviceBuffer memory, int numBlocks, int blockSize, long blockElems) {
        this.memory = memory;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.blockElems = blockElems;
    }

    static long bytesPerBlock(ModelConfig config, int blockSize) {
        return 2L * config.numHiddenLayers() * blockElems(config, blockSize) * BF16_BYTES;
    }

    /** @throws jcuda.CudaException when the device has not that much free memory */
    static DeviceKvCache allocate(ModelConfig config, int numBlocks, int blockSize) {
        if (numBlocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("KV cache of " + numBlocks + " blocks of " + blockSize + " slots");
        }
        DeviceBuffer memory = DeviceBuffer.allocate(numBlocks * bytesPerBlock(config, blockSize));
        return new DeviceKvCache(memory, numBlocks, blockSize, blockElems(config, blockSize));
    }

    private static long blockElems(ModelConfig config, int blockSize) {
        return (long) config.numKeyValueHeads() * blockSize * config.headDim();
    }

    CUdeviceptr base() {
        return memory.ptr();
    }

    CUdeviceptr key(int layer) {
        return memory.at(2L * layer * numBlocks * blockElems * BF16_BYTES);
    }

    CUdeviceptr value(int layer) {
        return memory.at((2L * layer + 1) * numBlocks * blockElems * BF16_BYTES);
    }

    long bytes() {
        return memory.bytes();
    }

    @Override
    public void close() {
        memory.close();
    }
}
