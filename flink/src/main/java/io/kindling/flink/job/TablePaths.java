package io.kindling.flink.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The data files of a table: a file, or the files under a directory but those Hadoop and Flink hide. */
final class TablePaths {

    private TablePaths() {
    }

    /** Regular files, sorted, skipping names that start with '.' or '_' (in-progress parts, _SUCCESS, .crc). */
    static List<Path> parts(Path table) throws IOException {
        if (!Files.isDirectory(table)) {
            return List.of(table);
        }
        try (Stream<Path> files = Files.walk(table)) {
            return files.filter(Files::isRegularFile).filter(p -> !hidden(table.relativize(p))).sorted().toList();
        }
    }

    private static boolean hidden(Path relative) {
        for (Path name : relative) {
            if (name.toString().startsWith(".") || name.toString().startsWith("_")) {
                return true;
            }
        }
        return false;
    }
}
