package io.kindling.flink.job;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The header line of CSV tables. Flink's csv format neither reads nor writes one, while Spark's job and most readers
 * expect it on every file; so the job names its columns from the input's first line, drops each file's header row,
 * and prefixes each part file it wrote with one.
 */
final class CsvHeader {

    private CsvHeader() {
    }

    /** The fields of one CSV line: comma-separated, {@code "}-quoted with {@code ""} for a quote. */
    static List<String> parse(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                field.append('"');
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }

    /**
     * A SQL condition true for every row but a header: with every column a string, a file's header line reads as a row
     * whose values are the column names. (A data row equal to its header cannot be told from one.)
     */
    static String notAHeader(List<String> names) {
        return names.stream().map(n -> "`" + n.replace("`", "``") + "` IS DISTINCT FROM '" + n.replace("'", "''")
                + "'").collect(Collectors.joining(" OR "));
    }

    /** Puts the header line in front of every part file under {@code output}. */
    static void prefix(Path output, List<String> names) throws IOException {
        byte[] header = (names.stream().map(CsvHeader::field).collect(Collectors.joining(",")) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        for (Path part : TablePaths.parts(output)) {
            Path prefixed = part.resolveSibling("." + part.getFileName() + ".header");
            try (OutputStream out = Files.newOutputStream(prefixed); InputStream in = Files.newInputStream(part)) {
                out.write(header);
                in.transferTo(out);
            }
            Files.move(prefixed, part, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static String field(String name) {
        return name.matches("[^,\"\\r\\n]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
