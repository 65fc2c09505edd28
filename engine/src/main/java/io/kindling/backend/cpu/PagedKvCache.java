package io.kindling.backend.cpu;

/**
 * K and V of every layer as {@code [numBlocks * blockSize][numKvHeads][headDim]} float arrays. A token's vectors
 * live at its slot ({@code block * blockSize + offset}); nothing here knows which sequence owns a block.
 */
final class PagedKvCache {

    final int numBlocks;
    final int blockSize;
    private final int kvSize;
    private final float[][] k;
    private final float[][] v;

    PagedKvCache(int numLayers, int numBlocks, int blockSize, int kvSize) {
        if (numBlocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("KV cache needs at least one block of one slot, got numBlocks="
                    + numBlocks + ", blockSize=" + blockSize);
        }
        long perLayer = (long) numBlocks * blockSize * kvSize;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + numBlocks + " blocks x " + blockSize + " slots x "
                    + kvSize + " floats exceeds one float array per layer; use fewer blocks");
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvSize = kvSize;
        this.k = new float[numLayers][(int) perLayer];
        this.v = new float[numLayers][(int) perLayer];
    }

    /** One layer over the caller's arrays ({@code [numSlots][kvSize]} each), for {@link PagedAttention#reference}. */
    PagedKvCache(int blockSize, int kvSize, float[] k, float[] v) {
        if (blockSize < 1 || kvSize < 1 || k.length != v.length || k.length % (blockSize * kvSize) != 0) {
            throw new IllegalArgumentException("K and V of " + k.length + " and " + v.length
                    + " floats are not whole blocks of " + blockSize + " slots x " + kvSize + " floats");
        }
        this.numBlocks = k.length / (blockSize * kvSize);
        this.blockSize = blockSize;
        this.kvSize = kvSize;
        this.k = new float[][] {k};
        this.v = new float[][] {v};
    }

    int numSlots() {
        return numBlocks * blockSize;
    }

    /** Stores one token's K and V, read from {@code src} at {@code kOffset} and {@code vOffset}. */
    void write(int layer, int slot, float[] src, int kOffset, int vOffset) {
        System.arraycopy(src, kOffset, k[layer], slot * kvSize, kvSize);
        System.arraycopy(src, vOffset, v[layer], slot * kvSize, kvSize);
    }

    /** Copies block {@code src[i]}'s slots into block {@code dst[i]} in every layer, in order. */
    void copyBlocks(int[] src, int[] dst) {
        if (src.length != dst.length) {
            throw new IllegalArgumentException("copyBlocks: " + src.length + " sources for " + dst.length
                    + " destinations");
        }
        int blockFloats = blockSize * kvSize;
        for (int i = 0; i < src.length; i++) {
            if (src[i] < 0 || src[i] >= numBlocks || dst[i] < 0 || dst[i] >= numBlocks) {
                throw new IllegalArgumentException("copyBlocks: block " + src[i] + " -> " + dst[i]
                        + " is outside [0, " + numBlocks + ")");
            }
            for (int layer = 0; layer < k.length; layer++) {
                System.arraycopy(k[layer], src[i] * blockFloats, k[layer], dst[i] * blockFloats, blockFloats);
                System.arraycopy(v[layer], src[i] * blockFloats, v[layer], dst[i] * blockFloats, blockFloats);
            }
        }
    }

    float[] keys(int layer) {
        return k[layer];
    }

    float[] values(int layer) {
        return v[layer];
    }

    /** Offset of {@code pos}'s K/V (all KV heads) in the layer arrays, found through the block table. */
    int offset(int[] blockTable, int pos) {
        return (blockTable[pos / blockSize] * blockSize + pos % blockSize) * kvSize;
    }
}
