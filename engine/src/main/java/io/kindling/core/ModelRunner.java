package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.DeferredTokens;
import io.kindling.backend.Logits;
import java.util.List;

/** Flattens a scheduled batch into {@link BatchInputs} and runs it on the backend. */
final class ModelRunner {

    private final Backend backend;
    private final int blockSize;

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
        BatchInputs inputs = prepareInputs(batch.scheduled(), blockSize);
        return backend.forward(inputs, deferredTokens(batch.scheduled(), inputs));
    }

    /** The scheduled pending tokens: each is its sequence's last, so the last of its rows when scheduled. */
    private static DeferredTokens deferredTokens(List<ScheduledSequence> scheduled, BatchInputs inputs) {
        int n = 0;
        for (ScheduledSequence s : scheduled) {
            n += s.seq().hasPendingToken() && s.samples() ? 1 : 0;
        }
        if (n == 0) {
            return DeferredTokens.NONE;
        }
        int[] tokenIndices = new int[n];
        int[] drawIndices = new int[n];
        int j = 0;
        for (int i = 0; i < scheduled.size(); i++) {
            Sequence seq = scheduled.get(i).seq();
            if (seq.hasPendingToken() && scheduled.get(i).samples()) {
                tokenIndices[j] = inputs.queryStartLoc()[i + 1] - 1;
                drawIndices[j++] = seq.pendingDraw();
            }
        }
        return new DeferredTokens(tokenIndices, drawIndices);
    }

    static BatchInputs prepareInputs(List<ScheduledSequence> scheduled, int blockSize) {
        int numSeqs = scheduled.size();
        int numTokens = 0;
        int numSampling = 0;
        for (ScheduledSequence s : scheduled) {
            numTokens += s.numScheduledTokens();
            numSampling += s.samples() ? 1 : 0;
        }
        int[] inputIds = new int[numTokens];
        int[] positions = new int[numTokens];
        int[] slotMapping = new int[numTokens];
        int[] queryStartLoc = new int[numSeqs + 1];
        int[] seqLens = new int[numSeqs];
        int[][] blockTables = new int[numSeqs][];
        int[] logitsIndices = new int[numSampling];
        int t = 0;
        int l = 0;
        for (int i = 0; i < numSeqs; i++) {
            ScheduledSequence s = scheduled.get(i);
            Sequence seq = s.seq();
            int[] blockTable = seq.sharedBlockTable();
            int start = seq.numComputedTokens();
            int end = start + s.numScheduledTokens();
            queryStartLoc[i] = t;
            for (int pos = start; pos < end; pos++, t++) {
                int id = seq.tokenId(pos);
                inputIds[t] = id == Sequence.PENDING ? 0 : id; // a deferred token: the backend fills it in
                positions[t] = pos;
                slotMapping[t] = blockTable[pos / blockSize] * blockSize + pos % blockSize;
            }
            seqLens[i] = end;
            blockTables[i] = blockTable;
            if (s.samples()) {
                logitsIndices[l++] = t - 1;
            }
        }
        queryStartLoc[numSeqs] = t;
        return new BatchInputs(inputIds, positions, slotMapping, queryStartLoc, seqLens, blockTables, logitsIndices);
    }
}
