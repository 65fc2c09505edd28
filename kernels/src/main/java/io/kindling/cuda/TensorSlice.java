package io.kindling.cuda;

import io.kindling.backend.TensorParallelPlan.Slice;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The part of a checkpoint's bf16 matrix {@code [rows][cols]} (a vector: one row) that a tensor-parallel rank holds:
 * rows {@code rowSlice} (column-parallel QKV and gate/up, the LM head's vocabulary) and columns {@code colSlice}
 * (row-parallel o_proj and down_proj), as {@code TensorParallelPlan} assigns them. A rank of one holds it all.
 *
 * @param name the checkpoint tensor
 */
record TensorSlice(String name, int rows, int cols, Slice rowSlice, Slice colSlice) {

    TensorSlice {
        if (rowSlice.start() < 0 || rowSlice.end() > rows || rowSlice.size() < 0 || colSlice.start() < 0
                || colSlice.end() > cols || colSlice.size() < 0) {
            throw new IllegalArgumentException(name + ": rows " + rowSlice + " and columns " + colSlice
                    + " outside its shape [" + rows + ", " + cols + "]");
        }
    }

    static TensorSlice whole(String name, int rows, int cols) {
        return new TensorSlice(name, rows, cols, new Slice(0, rows), new Slice(0, cols));
    }

    TensorSlice rows(Slice rows) {
        return new TensorSlice(name, this.rows, cols, rows, colSlice);
    }

    TensorSlice columns(Slice columns) {
        return new TensorSlice(name, rows, cols, rowSlice, columns);
    }

    long numElements() {
        return (long) rowSlice.size() * colSlice.size();
    }

    /** Whether the slice is one run of the row-major tensor: whole rows. */
    boolean contiguous() {
        return colSlice.size() == cols;
    }

    /**
     * Hands the slice's bytes of {@code whole} (the tensor's {@code 2 * rows * cols} bf16 bytes from its position)
     * to {@code sink} in row-major order: one view for whole rows, else one a row (views; the position does not
     * move).
     */
    void forEachRun(ByteBuffer whole, Consumer<ByteBuffer> sink) {
        if (contiguous()) {
            sink.accept(run(whole));
            return;
        }
        checkSize(whole);
        for (int r = rowSlice.start(); r < rowSlice.end(); r++) {
            sink.accept(whole.slice(Math.toIntExact(whole.position() + 2L * ((long) r * cols + colSlice.start())),
                    2 * colSlice.size()));
        }
    }

    /** The slice's bytes of {@code whole} as one view: whole rows only ({@link #contiguous}). */
    ByteBuffer run(ByteBuffer whole) {
        if (!contiguous()) {
            throw new IllegalStateException(name + ": columns " + colSlice + " of " + cols + " are no single run");
        }
        checkSize(whole);
        return whole.slice(Math.toIntExact(whole.position() + 2L * rowSlice.start() * cols),
                Math.toIntExact(2L * rowSlice.size() * cols));
    }

    private void checkSize(ByteBuffer whole) {
        if (whole.remaining() != 2L * rows * cols) {
            throw new IllegalArgumentException(name + ": " + whole.remaining() + " bytes, its shape [" + rows + ", "
                    + cols + "] holds " + 2L * rows * cols);
        }
    }
}
