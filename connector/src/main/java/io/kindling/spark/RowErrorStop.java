package io.kindling.spark;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.apache.spark.ExceptionFailure;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Fails a stage at once when one of its tasks fails on a row the engine cannot serve ({@link LlmRowException}: an
 * empty prompt, one longer than the context, an option the model refuses). Such an error is a property of the row, so
 * Spark's retries ({@code spark.task.maxFailures}) would only meet it again, each after generating the rows before
 * it. Spark has no way for a task to mark its failure final; this driver-side listener cancels the stage with the
 * task's message instead. A retry may start before the cancellation arrives: on an executor that has seen the
 * partition fail so, it fails at once with the same message, asking the engine nothing.
 */
final class RowErrorStop extends SparkListener {

    private static final Set<SparkContext> WATCHED = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<>()));

    private final SparkContext context;

    private RowErrorStop(SparkContext context) {
        this.context = context;
    }

    /** Partitions that failed on a row error in this JVM, by stage attempt: the message, for their retries. */
    private static final int REMEMBERED = 256;
    private static final Map<String, String> FAILED = Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > REMEMBERED;
        }
    });

    /** Notes on the executor that {@code task}'s partition failed on a row error. */
    static void failed(TaskContext task, String message) {
        FAILED.put(partitionOf(task), message);
    }

    /** A retry of a partition this executor saw fail on a row error fails again, without running the model. */
    static void failIfKnown(TaskContext task) {
        String message = task.attemptNumber() == 0 ? null : FAILED.get(partitionOf(task));
        if (message != null) {
            throw new LlmRowException(message);
        }
    }

    private static String partitionOf(TaskContext task) {
        return task.stageId() + "." + task.stageAttemptNumber() + ":" + task.partitionId();
    }

    /** Listens on {@code context}'s tasks, once per context. */
    static void watch(SparkContext context) {
        if (WATCHED.add(context)) {
            context.addSparkListener(new RowErrorStop(context));
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.reason() instanceof ExceptionFailure failure
                && failure.className().equals(LlmRowException.class.getName())) {
            context.cancelStage(end.stageId(), failure.description());
        }
    }
}
