package io.kindling.flink;

/** How messages name a row: its subtask and the start of its prompt (Flink rows have no position). */
final class RowNames {

    private static final int EXCERPT = 40;

    private RowNames() {
    }

    static String of(String prompt, int subtask, int subtasks) {
        String excerpt = prompt.length() <= EXCERPT ? prompt : prompt.substring(0, EXCERPT) + "...";
        return "row of subtask " + subtask + "/" + subtasks + " (prompt \"" + excerpt.replace("\n", "\\n") + "\")";
    }
}
