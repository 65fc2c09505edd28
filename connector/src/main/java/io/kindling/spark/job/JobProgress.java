package io.kindling.spark.job;

import io.kindling.spark.LlmEvalExec;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The job's progress on stderr, a line every interval: rows out of {@code llm_generate} (of the total, when known),
 * output tokens/s, rows that became errors so far and, once tasks have ended, the engines' mean batch (sequences a
 * step). The counts are the {@link LlmEvalExec} metrics: finished tasks'
 * final values plus running tasks' latest, which executors send with their heartbeats.
 */
final class JobProgress extends SparkListener implements AutoCloseable {

    private static final List<String> METRICS = List.of(LlmEvalExec.ROWS_METRIC, LlmEvalExec.TOKENS_METRIC,
            LlmEvalExec.ERRORS_METRIC, LlmEvalExec.STEPS_METRIC, LlmEvalExec.SCHEDULED_SEQS_METRIC);

    private final PrintWriter err;
    private final OptionalLong total;
    private final long start = System.nanoTime();
    private final Map<String, Long> finished = new HashMap<>();
    private final Map<Long, Map<String, Long>> running = new HashMap<>();
    private final ScheduledExecutorService printer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kindling-progress");
        t.setDaemon(true);
        return t;
    });

    private JobProgress(PrintWriter err, OptionalLong total) {
        this.err = err;
        this.total = total;
    }

    /** Prints every {@code intervalMillis} until closed. */
    static JobProgress every(long intervalMillis, PrintWriter err, OptionalLong total) {
        JobProgress progress = new JobProgress(err, total);
        progress.printer.scheduleAtFixedRate(progress::print, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        return progress;
    }

    @Override
    public synchronized void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> task
                : CollectionConverters.asJava(update.accumUpdates())) {
            Map<String, Long> values = ours(task._4());
            if (!values.isEmpty()) {
                running.put((Long) task._1(), values);
            }
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
        running.remove(end.taskInfo().taskId());
        // A failed attempt's counts are dropped, as Spark drops its metric updates.
        if (end.reason() == Success$.MODULE$) {
            ours(end.taskInfo().accumulables()).forEach((name, v) -> finished.merge(name, v, Long::sum));
        }
    }

    private static Map<String, Long> ours(scala.collection.immutable.Seq<AccumulableInfo> infos) {
        Map<String, Long> values = new HashMap<>();
        for (AccumulableInfo info : CollectionConverters.asJava(infos)) {
            if (info.name().isDefined() && METRICS.contains(info.name().get()) && info.update().isDefined()
                    && info.update().get() instanceof Long v) {
                values.merge(info.name().get(), v, Long::sum);
            }
        }
        return values;
    }

    /** One line now: the final one when the job is done. */
    synchronized void print() {
        Map<String, Long> now = new HashMap<>(finished);
        running.values().forEach(task -> task.forEach((name, v) -> now.merge(name, v, Long::sum)));
        double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        // the engines report their steps as tasks end: the mean batch shows once the first task has
        long steps = now.getOrDefault(LlmEvalExec.STEPS_METRIC, 0L);
        err.println(String.format(Locale.ROOT, "kindling spark: %d%s rows, %.1f output tokens/s, %d errors, %.0fs%s",
                now.getOrDefault(LlmEvalExec.ROWS_METRIC, 0L),
                total.isPresent() ? "/" + total.getAsLong() : "",
                now.getOrDefault(LlmEvalExec.TOKENS_METRIC, 0L) / seconds,
                now.getOrDefault(LlmEvalExec.ERRORS_METRIC, 0L), seconds, steps == 0 ? ""
                        : String.format(Locale.ROOT, ", mean batch %.1f",
                                (double) now.getOrDefault(LlmEvalExec.SCHEDULED_SEQS_METRIC, 0L) / steps)));
        err.flush();
    }

    @Override
    public void close() {
        printer.shutdownNow();
    }
}
