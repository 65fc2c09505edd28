package io.kindling.backend;

/**
 * A step's float32 logits, one row per sampling sequence in batch order ({@code [numRows][vocabSize]}). They may
 * live on the device that computed them: a device backend's sampler reads them in place, and only {@link #row}
 * brings a row to the heap.
 */
public interface Logits {

    int numRows();

    int vocabSize();

    /**
     * Row {@code i} copied onto the heap: the caller owns the array and may overwrite it. Callers use one thread at
     * a time (a device copy runs on the backend's stream).
     */
    float[] row(int i);
}
