package io.kindling.cli;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import java.util.Collections;
import java.util.Enumeration;
import java.util.ResourceBundle;

/**
 * The {@code --help} descriptions of the catalogue's options, taken from the catalogue ({@link Option#help()} and
 * its default), so that the flags' help cannot drift from the row fields, the Spark options and the README's table.
 * Picocli looks a description up by the option's longest name without its dashes ({@code max-tokens}); a flag that
 * only shares a catalogue option's name (bench's {@code --seed}) names another key ({@code descriptionKey}).
 */
final class CatalogueHelp extends ResourceBundle {

    @Override
    protected Object handleGetObject(String key) {
        return Option.spelled(FrontEnd.CLI, "--" + key).map(CatalogueHelp::describe).orElse(null);
    }

    @Override
    public Enumeration<String> getKeys() {
        return Collections.enumeration(Option.of(FrontEnd.CLI).stream()
                .map(o -> o.spelling(FrontEnd.CLI).orElseThrow().substring(2)).toList());
    }

    static String describe(Option o) {
        return o.help() + (o.defaultText().equals("required") ? "" : " (default: " + o.defaultText() + ")");
    }
}
