package io.kindling.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * JSONL input: every physical line (split at {@code \n}, a trailing {@code \r} dropped) is a row, a blank, malformed
 * or undecodable one included, so output line N answers input line N and messages name the line an editor shows.
 * Bytes are decoded line by line, so one line that is not UTF-8 is that row's error, not the file's.
 */
final class JsonlInput implements InputSource {

    /** Longer lines are rows in error, skipped without being held: no prompt that long fits any model. */
    static final int MAX_LINE_BYTES = 64 << 20;

    private static final Pattern SOURCE = Pattern.compile("\\[Source: [^;]*; ");
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final Path path;
    private final InputStream in;
    private final long rowCount;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private byte[] buf = new byte[1 << 12];
    private int length;
    private long lineBytes;
    private boolean pending;
    private boolean eof;
    private long index;

    JsonlInput(Path path) throws IOException {
        this.path = path;
        // a pipe or a device can be read only once: its rows are not counted ahead
        this.rowCount = Files.isRegularFile(path) ? countLines(path) : -1;
        this.in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
    }

    /** Counts lines as this class splits them: a final line without a newline counts too. */
    static long countLines(Path path) throws IOException {
        long lines = 0;
        int last = '\n';
        byte[] chunk = new byte[1 << 16];
        try (InputStream stream = Files.newInputStream(path)) {
            for (int n; (n = stream.read(chunk)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (chunk[i] == '\n') {
                        lines++;
                    }
                }
                last = chunk[n - 1];
            }
        }
        return last == '\n' ? lines : lines + 1;
    }

    @Override
    public boolean hasNext() {
        if (!pending && !eof) {
            try {
                pending = readLine();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + path + " at line " + (index + 1), e);
            }
        }
        return pending;
    }

    /** Reads the next line's bytes into {@code buf} (at most {@link #MAX_LINE_BYTES} kept); false at the end. */
    private boolean readLine() throws IOException {
        length = 0;
        lineBytes = 0;
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (lineBytes++ < MAX_LINE_BYTES) {
                if (length == buf.length) {
                    buf = Arrays.copyOf(buf, Math.min(MAX_LINE_BYTES, buf.length * 2));
                }
                buf[length++] = (byte) b;
            }
        }
        eof = b == -1;
        return b != -1 || lineBytes > 0;
    }

    @Override
    public RawRow next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        pending = false;
        long i = index++;
        String where = "line " + (i + 1);
        if (lineBytes > MAX_LINE_BYTES) {
            return new RawRow.Unreadable(i, where, "line is " + lineBytes + " bytes, more than the "
                    + MAX_LINE_BYTES + " a row may have");
        }
        int start = i == 0 && startsWithBom() ? BOM.length : 0;
        int end = length > start && buf[length - 1] == '\r' ? length - 1 : length;
        CharBuffer text = CharBuffer.allocate(end - start);
        ByteBuffer bytes = ByteBuffer.wrap(buf, start, end - start);
        utf8.reset();
        CoderResult result = utf8.decode(bytes, text, true);
        if (result.isError()) {
            return new RawRow.Unreadable(i, where, "not valid UTF-8 (byte " + (bytes.position() + 1)
                    + " of the line)");
        }
        utf8.flush(text);
        String line = text.flip().toString();
        if (line.isBlank()) {
            return new RawRow.Unreadable(i, where, "empty line");
        }
        try {
            return new RawRow.Fields(i, where, Json.MAPPER.readTree(line));
        } catch (JsonProcessingException e) {
            // Jackson names the source in nested locations; the row's "where" already does
            String problem = SOURCE.matcher(e.getOriginalMessage()).replaceAll("[");
            // limits (nesting depth, number length) are reported without a location
            String at = e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr();
            return new RawRow.Unreadable(i, where, "invalid JSON" + at + ": " + problem);
        }
    }

    private boolean startsWithBom() {
        return length >= BOM.length && buf[0] == BOM[0] && buf[1] == BOM[1] && buf[2] == BOM[2];
    }

    @Override
    public OptionalLong rowCount() {
        return rowCount < 0 ? OptionalLong.empty() : OptionalLong.of(rowCount);
    }

    @Override
    public IdKind idKind() {
        return IdKind.UTF8;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
