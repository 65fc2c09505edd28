package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Bf16Test {

    @Test
    void roundsToNearestEven() {
        // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties go to the even mantissa (1.0)
        assertEquals(1.0f, Bf16.toFloat(Bf16.fromFloat(1.00390625f)));
        // 1.0078125 + 2^-8 is halfway between 1.0078125 (odd) and 1.015625 (even)
        assertEquals(1.015625f, Bf16.toFloat(Bf16.fromFloat(1.01171875f)));
        // just above halfway rounds up
        assertEquals(1.0078125f, Bf16.toFloat(Bf16.fromFloat(Math.nextUp(1.00390625f))));
        assertEquals((short) 0x3f80, Bf16.fromFloat(1f));
        assertEquals((short) 0xc000, Bf16.fromFloat(-2f));
    }

    @Test
    void keepsSpecialValues() {
        assertTrue(Float.isNaN(Bf16.toFloat(Bf16.fromFloat(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.toFloat(Bf16.fromFloat(Float.POSITIVE_INFINITY)));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.toFloat(Bf16.fromFloat(Float.MAX_VALUE)));
    }
}
