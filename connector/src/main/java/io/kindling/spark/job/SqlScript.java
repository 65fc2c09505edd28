package io.kindling.spark.job;

import java.util.ArrayList;
import java.util.List;

/** A SQL file as statements: each ends with {@code ;} at the end of a line; {@code --} lines are comments. */
final class SqlScript {

    private SqlScript() {
    }

    static List<String> statements(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder statement = new StringBuilder();
        for (String line : script.split("\\R")) {
            if (line.strip().startsWith("--")) {
                continue;
            }
            String trimmed = line.stripTrailing();
            if (trimmed.endsWith(";")) {
                statement.append(trimmed, 0, trimmed.length() - 1);
                addIfAny(statements, statement);
                statement.setLength(0);
            } else {
                statement.append(line).append('\n');
            }
        }
        addIfAny(statements, statement);
        return statements;
    }

    private static void addIfAny(List<String> statements, StringBuilder statement) {
        String text = statement.toString().strip();
        if (!text.isEmpty()) {
            statements.add(text);
        }
    }
}
