package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kindling.backend.TensorParallelPlan.Slice;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class TensorSliceTest {

    /** A [rows][cols] bf16 tensor whose element (r, c) holds the two bytes r, c; behind a 3-byte header. */
    private static ByteBuffer tensor(int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(3 + 2 * rows * cols);
        b.position(3);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                b.put((byte) r).put((byte) c);
            }
        }
        return b.position(3);
    }

    private static byte[] runs(TensorSlice slice, ByteBuffer whole) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        slice.forEachRun(whole, run -> {
            byte[] bytes = new byte[run.remaining()];
            run.duplicate().get(bytes);
            out.writeBytes(bytes);
        });
        return out.toByteArray();
    }

    private static byte[] elements(int r0, int r1, int c0, int c1) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int r = r0; r < r1; r++) {
            for (int c = c0; c < c1; c++) {
                out.write(r);
                out.write(c);
            }
        }
        return out.toByteArray();
    }

    @Test
    void wholeRowsAreOneRun() {
        ByteBuffer whole = tensor(6, 4);
        TensorSlice rows = TensorSlice.whole("q", 6, 4).rows(new Slice(2, 5));
        int[] count = new int[1];
        rows.forEachRun(whole, run -> count[0]++);
        assertEquals(1, count[0]);
        assertArrayEquals(elements(2, 5, 0, 4), runs(rows, whole));
        assertEquals(12, rows.numElements());
        assertEquals(3, whole.position(), "the tensor's position does not move");
    }

    @Test
    void columnsAreOneRunARow() {
        ByteBuffer whole = tensor(3, 8);
        TensorSlice columns = TensorSlice.whole("o", 3, 8).columns(new Slice(4, 8));
        assertArrayEquals(elements(0, 3, 4, 8), runs(columns, whole));
        assertThrows(IllegalStateException.class, () -> columns.run(whole));
    }

    @Test
    void theRanksSlicesTileTheTensor() {
        ByteBuffer whole = tensor(4, 6);
        ByteArrayOutputStream rowSlices = new ByteArrayOutputStream();
        for (Slice s : new Slice[] {new Slice(0, 2), new Slice(2, 4)}) {
            rowSlices.writeBytes(runs(TensorSlice.whole("gate", 4, 6).rows(s), whole));
        }
        assertArrayEquals(elements(0, 4, 0, 6), rowSlices.toByteArray());
        assertArrayEquals(elements(0, 4, 0, 3), runs(TensorSlice.whole("down", 4, 6).columns(new Slice(0, 3)), whole));
        assertArrayEquals(elements(0, 4, 3, 6), runs(TensorSlice.whole("down", 4, 6).columns(new Slice(3, 6)), whole));
    }

    @Test
    void aVectorIsOneRow() {
        ByteBuffer whole = tensor(1, 5);
        assertArrayEquals(elements(0, 1, 0, 5), runs(TensorSlice.whole("norm", 1, 5), whole));
    }

    @Test
    void aSliceOutsideTheShapeOrABufferOfAnotherSizeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.whole("q", 4, 4).rows(new Slice(2, 6)));
        assertThrows(IllegalArgumentException.class, () -> TensorSlice.whole("q", 4, 4).columns(new Slice(-1, 2)));
        assertThrows(IllegalArgumentException.class, () -> runs(TensorSlice.whole("q", 4, 4), tensor(4, 3)));
    }
}
