package io.kindling.flink;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

/**
 * {@code ML_PREDICT} over a kindling model: each input row's prompt (the one INPUT column) goes to the TaskManager's
 * engine without waiting, so the async operator keeps as many rows in the engine as its capacity allows
 * ({@code 'max-concurrent-operations'}); the engine batches them with every other slot's. Public: the planner's
 * generated code names it.
 */
public final class KindlingPredictFunction extends AsyncPredictFunction {

    private final KindlingOptions options;
    private final OutputLayout layout;
    private transient PromptSubmitter submitter;
    private transient TaskInfo task;

    KindlingPredictFunction(KindlingOptions options, OutputLayout layout) {
        this.options = options;
        this.layout = layout;
    }

    @Override
    public void open(FunctionContext context) {
        task = context.getTaskInfo();
        submitter = PromptSubmitter.open(options, context, "ML_PREDICT");
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData input) {
        if (input.isNullAt(0)) {
            return CompletableFuture.completedFuture(List.of(layout.nullRow()));
        }
        String prompt = input.getString(0).toString();
        return submitter.generate(prompt).thenApply(r -> {
            if (r.failed() && !layout.hasError() && options.failOnError()) {
                throw new KindlingRowException("ML_PREDICT: " + RowNames.of(prompt, task.getIndexOfThisSubtask(),
                        task.getNumberOfParallelSubtasks()) + ": " + r.problem() + " (declare an error STRING column "
                        + "in the model's OUTPUT to keep such rows, or set 'on-error' = 'null')");
            }
            return List.of(r.failed() && !layout.hasError() ? layout.nullRow() : layout.row(r));
        });
    }

    @Override
    public void close() {
        if (submitter != null) {
            submitter.close();
        }
    }
}
