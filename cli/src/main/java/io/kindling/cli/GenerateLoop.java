package io.kindling.cli;

import io.kindling.core.FinishReason;
import io.kindling.core.InvalidRequestException;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.tokenizer.TokenizerException;
import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Streams rows through the engine: keeps at most {@code window} rows between read and written, feeds the engine,
 * steps it, and writes each output as soon as every earlier row's output is written. A row the engine cannot
 * serve becomes an error row; it never stops the others.
 */
final class GenerateLoop {

    private final BatchEngine engine;
    private final RowParser parser;
    private final OutputWriter out;
    private final Progress progress;
    private final int window;
    private final long first;
    private final ReorderBuffer<OutputRow> done;
    private final Map<String, InputRow.Spec> running = new HashMap<>();
    private long errors;

    /** How a run went: rows it wrote, and how many of them are error rows. */
    record Summary(long rows, long errors) {
    }

    /** @param first the index of the first row it will read: rows before it were answered by an earlier run */
    GenerateLoop(BatchEngine engine, RowParser parser, OutputWriter out, Progress progress, int window, long first) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be positive, got " + window);
        }
        this.engine = engine;
        this.parser = parser;
        this.out = out;
        this.progress = progress;
        this.window = window;
        this.first = first;
        this.done = new ReorderBuffer<>(first);
    }

    /** Runs every row of {@code rows}, writing one output row for each. */
    Summary run(Iterator<RawRow> rows) throws IOException {
        progress.begin(engine.stats());
        long read = first;
        while (true) {
            for (; read - done.released() < window && rows.hasNext(); read++) {
                submit(parser.parse(rows.next()));
            }
            writeReady();
            if (running.isEmpty()) {
                if (!rows.hasNext()) {
                    break;
                }
                continue;
            }
            for (RequestOutput output : engine.step()) {
                InputRow.Spec row = running.remove(output.requestId());
                done.put(row.index(), OutputRow.completed(row, output));
            }
            writeReady();
            progress.update(done.released(), engine.stats());
        }
        progress.finish(done.released(), engine.stats());
        return new Summary(done.released() - first, errors);
    }

    private void submit(InputRow row) {
        if (row instanceof InputRow.Rejected rejected) {
            done.put(row.index(), OutputRow.rejected(rejected));
            return;
        }
        InputRow.Spec spec = (InputRow.Spec) row;
        try {
            int[] promptTokenIds = spec.prompt().tokenize(engine.tokenizer(), engine.maxModelLen());
            engine.addRequest(new Request(spec.where(), promptTokenIds, spec.params()));
            running.put(spec.where(), spec);
        } catch (InvalidRequestException e) {
            done.put(row.index(), OutputRow.failed(row.id(), spec.where() + ": " + e.problem()));
        } catch (TokenizerException e) {
            done.put(row.index(), OutputRow.failed(row.id(), spec.where() + ": " + e.getMessage()));
        }
    }

    private void writeReady() throws IOException {
        boolean wrote = false;
        for (OutputRow row : done.poll()) {
            out.write(row);
            if (row.finishReason() == FinishReason.ERROR) {
                errors++;
            }
            wrote = true;
        }
        if (wrote) {
            out.flush();
        }
    }
}
