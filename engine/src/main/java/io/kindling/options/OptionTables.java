package io.kindling.options;

import java.util.ArrayList;
import java.util.List;

/**
 * The option tables of the documentation, rendered from the catalogue: the README's table of every option and the
 * Spark connector's javadoc table. Tests compare the files' tables with these, so the documents cannot drift.
 */
public final class OptionTables {

    private OptionTables() {
    }

    /** A Markdown table of every option: its spelling in each front end, default, valid values and help. */
    public static String markdown() {
        List<String> lines = new ArrayList<>();
        lines.add("| row field / SQL map key | `generate` flag | `spark.kindling.*` | Flink | default | valid | "
                + "what it does |");
        lines.add("|---|---|---|---|---|---|---|");
        for (Option o : Option.values()) {
            lines.add("| " + cell(o, FrontEnd.ROW) + " | " + cell(o, FrontEnd.CLI) + " | " + cell(o, FrontEnd.SPARK)
                    + " | " + cell(o, FrontEnd.FLINK) + " | " + o.defaultText() + " | `" + o.validText() + "` | "
                    + o.help() + " |");
        }
        return String.join("\n", lines) + "\n";
    }

    /** A javadoc HTML table of the options {@code llm_generate} takes, by their Spark spelling. */
    public static String sparkJavadoc() {
        List<String> lines = new ArrayList<>();
        lines.add(" * <table>");
        lines.add(" *   <caption>Options of llm_generate</caption>");
        lines.add(" *   <tr><th>option</th><th>default</th><th>valid</th><th>what it does</th></tr>");
        for (Option o : Option.of(FrontEnd.SPARK)) {
            lines.add(" *   <tr><td>{@code " + o.spelling(FrontEnd.SPARK).orElseThrow() + "}</td><td>" + o.defaultText()
                    + "</td><td>{@code " + o.validText() + "}</td><td>" + o.help() + "</td></tr>");
        }
        lines.add(" * </table>");
        return String.join("\n", lines) + "\n";
    }

    /** The front end's spelling, or a dash with the reason it lacks the option. */
    private static String cell(Option o, FrontEnd f) {
        return o.spelling(f).map(s -> "`" + s + "`").orElseGet(() -> "- (" + o.absentBecause(f).orElseThrow() + ")");
    }
}
