package io.kindling.core;

/**
 * The chained hash of a full block: of its parent block's hash, its token ids and its extra keys, so equal hashes
 * mean (short of a collision) equal contents from the sequence's first token on. It only finds candidates in the
 * prefix cache; {@link BlockPool#getCachedBlock} compares the stored contents before returning one.
 */
record BlockHash(long value) {

    /** Stands for the parent of a sequence's first block. */
    static final BlockHash ROOT = new BlockHash(0);

    @Override
    public String toString() {
        return String.format("BlockHash(%016x)", value);
    }
}
