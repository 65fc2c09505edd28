package io.kindling.flink;

import org.apache.flink.table.factories.ModuleFactory;
import org.apache.flink.table.module.Module;

/** {@code LOAD MODULE kindling WITH (...)}: the options are a kindling model's (the catalogue's Flink spellings). */
public final class KindlingModuleFactory extends KindlingFactory implements ModuleFactory {

    @Override
    public Module createModule(Context context) {
        return new KindlingModule(context.getConfiguration(), context.getOptions());
    }
}
