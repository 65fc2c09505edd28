package io.kindling.cuda;

/** The attention tests' K/V: the CPU twin's layout turned into the kernels' paged one. */
final class KvCacheLayout {

    private KvCacheLayout() {
    }

    /**
     * K then V planes {@code [block][kvHead][offset][headDim]} (bf16) from the CPU layout {@code [slot][kvHead *
     * headDim]}, slot = block * blockSize + offset.
     */
    static short[] paged(float[] keys, float[] values, int blockSize, int numKvHeads, int headDim) {
        int kvSize = numKvHeads * headDim;
        int slots = keys.length / kvSize;
        short[] planes = new short[2 * keys.length];
        for (int slot = 0; slot < slots; slot++) {
            for (int h = 0; h < numKvHeads; h++) {
                for (int d = 0; d < headDim; d++) {
                    int cpu = slot * kvSize + h * headDim + d;
                    int gpu = (((slot / blockSize) * numKvHeads + h) * blockSize + slot % blockSize) * headDim + d;
                    planes[gpu] = Bf16.fromFloat(keys[cpu]);
                    planes[keys.length + gpu] = Bf16.fromFloat(values[cpu]);
                }
            }
        }
        return planes;
    }
}
