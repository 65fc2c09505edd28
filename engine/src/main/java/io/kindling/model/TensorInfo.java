package io.kindling.model;

/** A tensor in a checkpoint: name, element type and shape (row-major, outermost first). */
public record TensorInfo(String name, DType dtype, long[] shape) {

    public long numElements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
