package io.kindling.flink;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** The catalogue's Flink options as Flink factories declare them (strings; {@link KindlingOptions} types them). */
final class KindlingConfigOptions {

    private KindlingConfigOptions() {
    }

    static Set<ConfigOption<?>> required() {
        return Set.of(of(Option.MODEL));
    }

    static Set<ConfigOption<?>> optional() {
        Set<ConfigOption<?>> options = new LinkedHashSet<>();
        for (Option o : Option.of(FrontEnd.FLINK)) {
            if (o != Option.MODEL) {
                options.add(of(o));
            }
        }
        return options;
    }

    private static ConfigOption<String> of(Option o) {
        return ConfigOptions.key(OptionReader.flinkName(o)).stringType().noDefaultValue()
                .withDescription(o.help() + " Default: " + o.defaultText() + ".");
    }
}
