package io.kindling.flink;

import io.kindling.options.FrontEnd;
import io.kindling.options.Option;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.factories.Factory;

/**
 * What Kindling's Flink factories (the model provider, the module) have in common: the identifier {@code kindling}
 * and the catalogue's Flink options, declared as strings ({@link KindlingOptions} types them).
 */
abstract class KindlingFactory implements Factory {

    @Override
    public String factoryIdentifier() {
        return KindlingModelProviderFactory.IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(of(Option.MODEL));
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
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
