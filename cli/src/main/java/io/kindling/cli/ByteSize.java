package io.kindling.cli;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A memory size flag such as {@code 512m}, {@code 2g}, {@code 1.5GiB} or {@code 1073741824}; units are binary. */
final class ByteSize implements ITypeConverter<Long> {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?b)?");

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    static long parse(String value) {
        Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches() || (m.group(2).isEmpty() && "ib".equals(m.group(3)))) {
            throw new TypeConversionException("'" + value + "' is not a size (examples: 512m, 2g, 1073741824)");
        }
        int shift = 10 * "_kmgt".indexOf(m.group(2).isEmpty() ? "_" : m.group(2));
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(2).pow(shift));
        if (bytes.compareTo(BigDecimal.ONE) < 0 || bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new TypeConversionException("'" + value + "' must be between 1 byte and 8 EiB");
        }
        return bytes.longValue();
    }
}
