package io.kindling.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class OptionTest {

    @Test
    void eachFrontEndSpellsTheSnakeNameByItsRule() {
        assertEquals(Optional.of("max_tokens"), Option.MAX_TOKENS.spelling(FrontEnd.ROW));
        assertEquals(Optional.of("--max-tokens"), Option.MAX_TOKENS.spelling(FrontEnd.CLI));
        assertEquals(Optional.of("maxTokens"), Option.MAX_TOKENS.spelling(FrontEnd.SPARK));
        assertEquals(Optional.of("max-tokens"), Option.MAX_TOKENS.spelling(FrontEnd.FLINK));
        assertEquals(Optional.of("gpuMemoryUtilization"), Option.GPU_MEMORY_UTILIZATION.spelling(FrontEnd.SPARK));
        assertEquals(Optional.of(Option.TOP_P), Option.spelled(FrontEnd.CLI, "--top-p"));
    }

    @Test
    void aFrontEndThatLacksAnOptionSaysWhy() {
        assertEquals(Optional.empty(), Option.MODEL.spelling(FrontEnd.ROW));
        assertEquals(Optional.of("one engine serves every row of a run"), Option.MODEL.absentBecause(FrontEnd.ROW));
        assertEquals(Optional.empty(), Option.spelled(FrontEnd.ROW, "model"));
        for (Option o : Option.values()) {
            for (FrontEnd f : FrontEnd.values()) {
                assertTrue(o.in(f) != o.absentBecause(f).isPresent(), o + " in " + f);
                assertFalse(o.absentBecause(f).map(String::isBlank).orElse(false), o + " in " + f);
            }
        }
    }

    @Test
    void rangesAndChoicesReadAsHelpShowsThem() {
        assertEquals("(0, 1]", Option.TOP_P.validText());
        assertTrue(Option.TOP_P.range().contains(1));
        assertFalse(Option.TOP_P.range().contains(0));
        assertFalse(Option.TEMPERATURE.range().contains(Double.NaN));
        assertEquals("[-2, 2]", Option.PRESENCE_PENALTY.validText());
        assertEquals("auto, cpu, cuda, cuda:N or cuda:N,M,...", Option.DEVICE.validText());
        assertTrue(Option.DEVICE.isChoice("cuda:3"));
        assertTrue(Option.DEVICE.isChoice("cuda:2,3"));
        assertFalse(Option.DEVICE.isChoice("cuda:2,"));
        assertFalse(Option.DEVICE.isChoice("tpu"));
        assertEquals("true, false or never", Option.EARLY_STOPPING.validText());
    }
}
