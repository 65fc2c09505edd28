package io.kindling.cuda;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The row order of gate_up's weight on the device: gate and up rows alternate in groups of {@link #GROUP} (gate
 * 0-7, up 0-7, gate 8-15, up 8-15, ...), where the checkpoint has all gate rows, then all up rows. The GEMM's
 * SiLU-and-multiply epilogue ({@link Gemm#runSiluMul}) relies on it: every 16 x 8 accumulator piece covers 8 output
 * columns aligned to 8, so a thread's gate and up values of one intermediate column sit in two adjacent pieces.
 */
final class GateUpOrder {

    /** Rows per group: the N width of mma.sync's and wgmma's accumulator pieces. */
    static final int GROUP = 8;

    private GateUpOrder() {
    }

    /**
     * Hands the rows of {@code gate} and {@code up} ({@code [inter][rowBytes]} each, from their positions) to
     * {@code sink} in device order, a group of one at a time (views; the buffers' positions do not move).
     *
     * @throws IllegalArgumentException when the two differ in size or their row count is no multiple of {@link #GROUP}
     */
    static void forEachGroup(ByteBuffer gate, ByteBuffer up, int rowBytes, Consumer<ByteBuffer> sink) {
        long rows = rowBytes > 0 ? gate.remaining() / rowBytes : 0;
        if (rowBytes <= 0 || gate.remaining() != up.remaining() || rows * rowBytes != gate.remaining()
                || rows % GROUP != 0) {
            throw new IllegalArgumentException("gate (" + gate.remaining() + " bytes) and up (" + up.remaining()
                    + " bytes) must be the same whole number of groups of " + GROUP + " rows of " + rowBytes
                    + " bytes");
        }
        int groupBytes = GROUP * rowBytes;
        for (int at = 0; at < gate.remaining(); at += groupBytes) {
            sink.accept(gate.slice(gate.position() + at, groupBytes));
            sink.accept(up.slice(up.position() + at, groupBytes));
        }
    }
}
