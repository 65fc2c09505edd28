package io.kindling.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * An output file written as {@code <name>.partial} beside it and renamed over it only once every row is in, so a
 * failed or killed run never leaves a truncated file where the previous output was. The partial file of a killed
 * run is what {@code --resume} continues: its complete lines are rows already done, in input order.
 */
final class OutputFile {

    static final String PARTIAL_SUFFIX = ".partial";

    private final Path target;
    private final Path partial;

    OutputFile(Path target) {
        this.target = target;
        this.partial = target.resolveSibling(target.getFileName() + PARTIAL_SUFFIX);
    }

    Path target() {
        return target;
    }

    Path partial() {
        return partial;
    }

    /** The rows an interrupted run left, checked against the input rows they answer. */
    record Resumed(long rows, long errors) {
    }

    /**
     * Takes up an interrupted run (its partial file, else a finished output): consumes from {@code input} the rows
     * already answered, checking that each output line carries the id of the input row it stands for, and cuts
     * off a last line the kill left unfinished. Afterwards the partial file holds exactly those rows.
     *
     * @throws CliException when the output does not answer this input (another input, or not our output)
     */
    Resumed resume(InputSource input, Path inputPath) throws IOException {
        if (!Files.exists(partial)) {
            if (!Files.exists(target)) {
                return new Resumed(0, 0);
            }
            Files.copy(target, partial, StandardCopyOption.REPLACE_EXISTING);
        }
        long rows = 0;
        long errors = 0;
        long complete = 0;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(partial), 1 << 16)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            long offset = 0;
            for (int b; (b = in.read()) != -1; ) {
                offset++;
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                JsonNode row = outputRow(line.toString(StandardCharsets.UTF_8), rows + 1);
                line.reset();
                if (!input.hasNext()) {
                    throw new CliException("cannot resume " + partial + ": it has more rows than " + inputPath
                            + " (" + rows + "); run with --overwrite to start over", null);
                }
                RawRow raw = input.next();
                JsonNode id = RowParser.idOf(raw);
                if (!Objects.equals(id, row.get("id"))) {
                    throw new CliException("cannot resume " + partial + ": its line " + (rows + 1) + " has id "
                            + row.get("id") + " but " + raw.where() + " of " + inputPath + " has id " + id
                            + "; run with --overwrite to start over", null);
                }
                rows++;
                errors += "error".equals(row.path("finish_reason").asText()) ? 1 : 0;
                complete = offset;
            }
        }
        try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.WRITE)) {
            channel.truncate(complete);
        }
        return new Resumed(rows, errors);
    }

    private JsonNode outputRow(String line, long number) {
        try {
            JsonNode row = Json.MAPPER.readTree(line);
            if (row != null && row.isObject() && row.has("id") && row.has("finish_reason")) {
                return row;
            }
        } catch (JsonProcessingException e) {
            // reported below
        }
        throw new CliException("cannot resume " + partial + ": its line " + number + " is not an output row; run "
                + "with --overwrite to start over", null);
    }

    /** Makes the partial file durable, then renames it over the target in one step. */
    void commit() throws IOException {
        try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
