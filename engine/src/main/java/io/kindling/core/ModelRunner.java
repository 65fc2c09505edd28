package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.Logits;

/**
 * Flattens a scheduled batch into {@link BatchInputs} and runs it on the backend. The inputs and deferred tokens are
 * one instance each, refilled step after step in arrays that only grow, so once they have room for the largest step
 * seen, a step of any shape (sequences finishing, others admitted) allocates nothing; the backend reads them during
 * its call only ({@link BatchInputs}).
 */
final class ModelRunner {

    private final Backend backend;
    private final int blockSize;
    private final BatchInputs inputs = new BatchInputs();
    private final DeferredTokens deferred = new DeferredTokens();

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
        deferred.clear();
        for (int i = 0; i < batch.numScheduled(); i++) {
            Sequence seq = batch.seq(i);
            if (seq.hasPendingToken() && batch.samples(i)) {
                deferred.add(inputs.queryStartLoc()[i + 1] - 1, seq.pendingDraw());
            }
        }
    }

    private void prepareInputs(SchedulerOutput batch) {
        int numSeqs = batch.numScheduled();
        inputs.reset(numSeqs, batch.totalNumScheduledTokens(), batch.numSampling());
        int[] inputIds = inputs.inputIds();
        int[] positions = inputs.positions();
        int[] slotMapping = inputs.slotMapping();
        int[] queryStartLoc = inputs.queryStartLoc();
        int[] seqLens = inputs.seqLens();
        int[][] blockTables = inputs.blockTables();
        int[] logitsIndices = inputs.logitsIndices();
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
    }
}
