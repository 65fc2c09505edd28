package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.Logits;

/**
 * Flattens a scheduled batch into {@link BatchInputs} and runs it on the backend. The inputs' arrays are refilled
 * step after step while their lengths stay the same (a decode batch of the same sequences), so a steady batch
 * allocates nothing; the backend reads them during its call only ({@link BatchInputs}).
 */
final class ModelRunner {

    private static final int[] NONE = new int[0];

    private final Backend backend;
    private final int blockSize;
    /** The last step's inputs and deferred tokens, whose arrays the next step reuses where the lengths match. */
    private BatchInputs inputs = new BatchInputs(NONE, NONE, NONE, new int[1], NONE, new int[0][], NONE);
    private DeferredTokens deferred = DeferredTokens.NONE;

    ModelRunner(Backend backend, int blockSize) {
        this.backend = backend;
        this.blockSize = blockSize;
    }

    /**
     * Makes the step's copy-on-write copies, then returns the logits of the sequences that sample, in batch order. A
     * sequence's pending token (asynchronous scheduling) is a deferred input: the backend takes its id from the
     * previous step's draws where they are.
     */
    Logits run(SchedulerOutput batch) {
        if (batch.copySrc().length > 0) {
            backend.copyBlocks(batch.copySrc(), batch.copyDst());
        }
        prepareInputs(batch);
        prepareDeferredTokens(batch);
        return backend.forward(inputs, deferred);
    }

    /** The scheduled pending tokens: each is its sequence's last, so the last of its rows when scheduled. */
    private void prepareDeferredTokens(SchedulerOutput batch) {
        int n = 0;
        for (int i = 0; i < batch.numScheduled(); i++) {
            n += batch.seq(i).hasPendingToken() && batch.samples(i) ? 1 : 0;
        }
        int[] tokenIndices = reuse(deferred.tokenIndices(), n);
        int[] drawIndices = reuse(deferred.drawIndices(), n);
        int j = 0;
        for (int i = 0; i < batch.numScheduled(); i++) {
            Sequence seq = batch.seq(i);
            if (seq.hasPendingToken() && batch.samples(i)) {
                tokenIndices[j] = inputs.queryStartLoc()[i + 1] - 1;
                drawIndices[j++] = seq.pendingDraw();
            }
        }
        if (tokenIndices != deferred.tokenIndices() || drawIndices != deferred.drawIndices()) {
            deferred = n == 0 ? DeferredTokens.NONE : new DeferredTokens(tokenIndices, drawIndices);
        }
    }

    private void prepareInputs(SchedulerOutput batch) {
        int numSeqs = batch.numScheduled();
        int numTokens = batch.totalNumScheduledTokens();
        BatchInputs last = inputs;
        int[] inputIds = reuse(last.inputIds(), numTokens);
        int[] positions = reuse(last.positions(), numTokens);
        int[] slotMapping = reuse(last.slotMapping(), numTokens);
        int[] queryStartLoc = reuse(last.queryStartLoc(), numSeqs + 1);
        int[] seqLens = reuse(last.seqLens(), numSeqs);
        int[][] blockTables = last.blockTables().length == numSeqs ? last.blockTables() : new int[numSeqs][];
        int[] logitsIndices = reuse(last.logitsIndices(), batch.numSampling());
        int t = 0;
        int l = 0;
        for (int i = 0; i < numSeqs; i++) {
            Sequence seq = batch.seq(i);
            int[] blockTable = seq.blockTableView();
            int start = seq.numComputedTokens();
            int end = start + batch.numScheduledTokens(i);
            queryStartLoc[i] = t;
            for (int pos = start; pos < end; pos++, t++) {
                int id = seq.tokenId(pos);
                inputIds[t] = id == Sequence.PENDING ? 0 : id; // a deferred token: the backend fills it in
                positions[t] = pos;
                slotMapping[t] = blockTable[pos / blockSize] * blockSize + pos % blockSize;
            }
            seqLens[i] = end;
            blockTables[i] = blockTable;
            if (batch.samples(i)) {
                logitsIndices[l++] = t - 1;
            }
        }
        queryStartLoc[numSeqs] = t;
        if (inputIds != last.inputIds() || positions != last.positions() || slotMapping != last.slotMapping()
                || queryStartLoc != last.queryStartLoc() || seqLens != last.seqLens()
                || blockTables != last.blockTables() || logitsIndices != last.logitsIndices()) {
            inputs = new BatchInputs(inputIds, positions, slotMapping, queryStartLoc, seqLens, blockTables,
                    logitsIndices);
        }
    }

    /** {@code previous} to be refilled if it has {@code length} entries, else a new array. */
    private static int[] reuse(int[] previous, int length) {
        return previous.length == length ? previous : new int[length];
    }
}
