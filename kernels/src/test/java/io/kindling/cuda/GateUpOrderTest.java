package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The device row order of gate_up's weight, on rows that carry their own checkpoint index. */
class GateUpOrderTest {

    private static final int ROW_BYTES = 12;

    @Test
    void interleavesGroupsOfEightGateRowsWithTheirUpRows() {
        int inter = 24;
        // a position of 5 checks that the views start at the buffers' positions, not at their starts
        ByteBuffer gate = rows(0, inter, 5);
        ByteBuffer up = rows(inter, inter, 5);
        ByteBuffer device = ByteBuffer.allocate(2 * inter * ROW_BYTES);
        GateUpOrder.forEachGroup(gate, up, ROW_BYTES, device::put);
        assertEquals(device.capacity(), device.position(), "every row is handed over once");
        for (int deviceRow = 0; deviceRow < 2 * inter; deviceRow++) {
            int group = deviceRow / 16;
            int inGroup = deviceRow % 16;
            int checkpointRow = inGroup < 8 ? group * 8 + inGroup : inter + group * 8 + inGroup - 8;
            for (int b = 0; b < ROW_BYTES; b++) {
                assertEquals(checkpointRow, device.get(deviceRow * ROW_BYTES + b), "device row " + deviceRow);
            }
        }
        assertEquals(5, gate.position(), "the sources' positions do not move");
    }

    @Test
    void refusesRowsThatAreNoWholeGroups() {
        assertThrows(IllegalArgumentException.class,
                () -> GateUpOrder.forEachGroup(rows(0, 12, 0), rows(12, 12, 0), ROW_BYTES, b -> { }));
        assertThrows(IllegalArgumentException.class,
                () -> GateUpOrder.forEachGroup(rows(0, 8, 0), rows(8, 16, 0), ROW_BYTES, b -> { }));
    }

    /** {@code count} rows whose bytes are their index from {@code first}, after {@code position} filler bytes. */
    private static ByteBuffer rows(int first, int count, int position) {
        ByteBuffer buffer = ByteBuffer.allocate(position + count * ROW_BYTES);
        buffer.position(position);
        for (int r = 0; r < count; r++) {
            for (int b = 0; b < ROW_BYTES; b++) {
                buffer.put((byte) (first + r));
            }
        }
        return buffer.position(position);
    }
}
