package io.kindling.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import io.kindling.options.OptionTables;
import io.kindling.options.OptionType;
import io.kindling.options.Range;
import io.kindling.sampling.SamplingParams;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The CLI's front ends against the options catalogue: an option added to the catalogue fails here, naming the front
 * end, until {@code generate}'s flags, the row parser and the README's table take it (or the catalogue says why not).
 */
class OptionCatalogueTest {

    /** Flags of {@code generate} that steer the run rather than the engine or sampling, so are not options. */
    private static final Set<String> RUN_FLAGS = Set.of("--input", "--output", "--overwrite", "--resume",
            "--verbose", "--help", "--version", "--prefix-caching");

    private static final Pattern FLAG = Pattern.compile("--(?:\\[no-])?([a-z][a-z-]*)");

    @Test
    void generatesHelpListsEveryCliOptionOfTheCatalogueAndNoOther() {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.execute(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true),
                "generate", "--help"));
        Set<String> shown = new TreeSet<>();
        Matcher m = FLAG.matcher(out.toString());
        while (m.find()) {
            shown.add("--" + m.group(1).replaceFirst("^no-", "")); // --no-prefix-caching turns an option off
        }
        Set<String> catalogue = Option.of(FrontEnd.CLI).stream().map(o -> o.spelling(FrontEnd.CLI).orElseThrow())
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> missing = new TreeSet<>(catalogue);
        missing.removeAll(shown);
        assertEquals(Set.of(), missing, "generate --help lacks these catalogue options");
        Set<String> unknown = new TreeSet<>(shown);
        unknown.removeAll(catalogue);
        unknown.removeAll(RUN_FLAGS);
        assertEquals(Set.of(), unknown, "generate --help has flags the catalogue does not declare");
    }

    @Test
    void eachFlagsHelpIsTheCataloguesHelpWithItsDefault() {
        for (String command : List.of("generate", "bench")) {
            StringWriter out = new StringWriter();
            assertEquals(0, Main.execute(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true),
                    command, "--help"));
            String help = out.toString().replaceAll("\\s+", " "); // picocli wraps descriptions
            // bench takes the engine's flags (those no row can set), not the sampling ones
            for (Option o : Option.of(FrontEnd.CLI).stream()
                    .filter(o -> command.equals("generate") || !o.in(FrontEnd.ROW)).toList()) {
                String flag = o.spelling(FrontEnd.CLI).orElseThrow();
                assertTrue(help.contains(CatalogueHelp.describe(o)), command + " --help: " + flag
                        + " does not read \"" + CatalogueHelp.describe(o) + "\"");
            }
        }
    }

    @Test
    void theRowParserReadsEveryRowOptionOfTheCatalogue() {
        assertEquals(EnumSet.copyOf(Option.of(FrontEnd.ROW)), RowParser.optionsRead(),
                "the JSONL row parser reads other fields than the catalogue's row options");
        for (Option o : Option.values()) {
            assertEquals(o.in(FrontEnd.ROW), RowParser.isKnownField(o.snakeName()), "the JSONL row parser: " + o);
        }
        assertTrue(RowParser.isKnownField("prompt_token_ids"));
    }

    @Test
    void theRowParserAcceptsExactlyTheCataloguesRanges() throws IOException {
        RowParser parser = new RowParser(SamplingParams.builder().build(), 1000);
        for (Option o : Option.of(FrontEnd.ROW)) {
            Range r = o.range();
            boolean integral = o.type() == OptionType.INT;
            double step = integral ? 1 : 0.01;
            if (r.min() != null) {
                assertAccepts(parser, o, r.minOpen() ? r.min() + step : r.min(), integral, true);
                assertAccepts(parser, o, r.minOpen() ? r.min() : r.min() - step, integral, false);
            }
            if (r.max() != null) {
                assertAccepts(parser, o, r.maxOpen() ? r.max() - step : r.max(), integral, true);
                assertAccepts(parser, o, r.maxOpen() ? r.max() : r.max() + step, integral, false);
            }
        }
    }

    private static void assertAccepts(RowParser parser, Option o, double value, boolean integral, boolean valid)
            throws IOException {
        String shown = integral ? Long.toString((long) value) : Double.toString(value);
        String json = "{\"prompt\": \"x\", \"" + o.snakeName() + "\": " + shown + "}";
        InputRow row = parser.parse(new RawRow.Fields(0, "line 1", Json.MAPPER.readTree(json)));
        assertEquals(valid, row instanceof InputRow.Spec, "the catalogue's range " + o.validText() + " of "
                + o.snakeName() + " and the row parser disagree on " + shown + ": " + row);
    }

    @Test
    void readmesTableIsTheCataloguesTable() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        assertEquals(OptionTables.markdown(), between(readme, "<!-- options table", "<!-- end of options table -->"),
                "README.md's options table differs from the catalogue's (OptionTables.markdown())");
    }

    /** The lines after the one that holds {@code start}, up to the one that holds {@code end}. */
    static String between(String text, String start, String end) {
        int from = text.indexOf('\n', text.indexOf(start)) + 1;
        int to = text.lastIndexOf('\n', text.indexOf(end)) + 1;
        return text.substring(from, to);
    }
}
