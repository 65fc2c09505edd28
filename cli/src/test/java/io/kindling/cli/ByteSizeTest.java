package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class ByteSizeTest {

    @Test
    void parsesBinaryUnitsAndPlainBytes() {
        assertEquals(1073741824L, ByteSize.parse("1073741824"));
        assertEquals(512L << 20, ByteSize.parse("512m"));
        assertEquals(2L << 30, ByteSize.parse("2g"));
        assertEquals(2L << 30, ByteSize.parse("2G"));
        assertEquals(64L << 10, ByteSize.parse("64KB"));
        assertEquals(3L << 29, ByteSize.parse("1.5GiB"));
        assertEquals(1L << 40, ByteSize.parse("1t"));
        assertEquals(100, ByteSize.parse("100b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "12x", "-1", "0", "0.5", "g", "1.5.2g", "2 gigabytes", "ib", "9999999999t"})
    void rejectsWhatIsNotAPositiveSize(String value) {
        TypeConversionException e = assertThrows(TypeConversionException.class, () -> ByteSize.parse(value));
        assertEquals(true, e.getMessage().startsWith("'" + value + "' "), e.getMessage());
    }
}
