package io.kindling.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/** JSONL input: every line is a row, a blank or malformed one included, so output lines match input lines. */
final class JsonlInput implements InputSource {

    private static final Pattern SOURCE = Pattern.compile("\\[Source: [^;]*; ");

    private final Path path;
    private final BufferedReader reader;
    private final long rowCount;
    private String line;
    private long index;

    JsonlInput(Path path) throws IOException {
        this.path = path;
        this.rowCount = countLines(path);
        this.reader = Files.newBufferedReader(path, StandardCharsets.UTF_8);
    }

    /** Counts lines as {@link BufferedReader#readLine} splits them: a final line without a newline counts too. */
    static long countLines(Path path) throws IOException {
        long lines = 0;
        int last = '\n';
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(path)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        lines++;
                    }
                }
                last = buf[n - 1];
            }
        }
        return last == '\n' ? lines : lines + 1;
    }

    @Override
    public boolean hasNext() {
        if (line == null) {
            try {
                line = reader.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + path + " after line " + index, e);
            }
        }
        return line != null;
    }

    @Override
    public RawRow next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        String text = line;
        line = null;
        long i = index++;
        String where = "line " + (i + 1);
        if (text.isBlank()) {
            return new RawRow.Unreadable(i, where, "empty line");
        }
        try {
            return new RawRow.Fields(i, where, Json.MAPPER.readTree(text));
        } catch (JsonProcessingException e) {
            // Jackson names the source in nested locations; the row's "where" already does
            String problem = SOURCE.matcher(e.getOriginalMessage()).replaceAll("[");
            return new RawRow.Unreadable(i, where, "invalid JSON at column " + e.getLocation().getColumnNr() + ": "
                    + problem);
        }
    }

    @Override
    public OptionalLong rowCount() {
        return OptionalLong.of(rowCount);
    }

    @Override
    public IdKind idKind() {
        return IdKind.UTF8;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
