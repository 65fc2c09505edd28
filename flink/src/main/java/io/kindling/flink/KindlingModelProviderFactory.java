package io.kindling.flink;

import java.util.List;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.types.logical.LogicalTypeFamily;

/**
 * {@code 'provider' = 'kindling'}: a model served by an engine inside each TaskManager.
 * <pre>
 * CREATE MODEL definer INPUT (prompt STRING) OUTPUT (response STRING)
 *   WITH ('provider' = 'kindling', 'model' = 'hdfs:///models/kindling-define-6m', 'max-tokens' = '48');
 * SELECT word, response FROM ML_PREDICT(TABLE words, MODEL definer, DESCRIPTOR(prompt));
 * </pre>
 * The options are the catalogue's Flink spellings; they are checked here, when the statement is planned.
 */
public final class KindlingModelProviderFactory extends KindlingFactory implements ModelProviderFactory {

    public static final String IDENTIFIER = "kindling";

    @Override
    public ModelProvider createModelProvider(Context context) {
        ResolvedCatalogModel model = context.getCatalogModel();
        List<Column> input = model.getResolvedInputSchema().getColumns();
        if (input.size() != 1 || !input.get(0).getDataType().getLogicalType().is(LogicalTypeFamily.CHARACTER_STRING)) {
            throw new InvalidKindlingOptionException("a kindling model's INPUT is one STRING column, the prompt; got "
                    + input);
        }
        return new Provider(KindlingOptions.resolve(model.getOptions()),
                OutputLayout.of(model.getResolvedOutputSchema()));
    }

    private record Provider(KindlingOptions options, OutputLayout layout) implements AsyncPredictRuntimeProvider {

        @Override
        public AsyncPredictFunction createAsyncPredictFunction(Context context) {
            return new KindlingPredictFunction(options, layout);
        }

        @Override
        public ModelProvider copy() {
            return new Provider(options, layout);
        }
    }
}
