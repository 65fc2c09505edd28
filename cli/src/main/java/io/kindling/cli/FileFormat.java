package io.kindling.cli;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Row files by extension: Arrow IPC files ({@code .arrow}, {@code .feather}), Arrow IPC streams ({@code .arrows}),
 * else JSONL.
 */
enum FileFormat {
    JSONL, ARROW_FILE, ARROW_STREAM;

    static FileFormat of(Path path) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".arrow") || name.endsWith(".feather")) {
            return ARROW_FILE;
        }
        return name.endsWith(".arrows") ? ARROW_STREAM : JSONL;
    }
}
