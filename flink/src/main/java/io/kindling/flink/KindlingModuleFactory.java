package io.kindling.flink;

import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.table.factories.ModuleFactory;
import org.apache.flink.table.module.Module;

/** {@code LOAD MODULE kindling WITH (...)}: the options are a kindling model's (the catalogue's Flink spellings). */
public final class KindlingModuleFactory implements ModuleFactory {

    @Override
    public String factoryIdentifier() {
        return KindlingModelProviderFactory.IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return KindlingConfigOptions.required();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return KindlingConfigOptions.optional();
    }

    @Override
    public Module createModule(Context context) {
        return new KindlingModule(context.getConfiguration(), context.getOptions());
    }
}
