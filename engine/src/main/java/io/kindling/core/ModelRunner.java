package io.kindling.core;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
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

    /** Makes the step's copy-on-write copies, then returns the logits of the sequences that sample, in batch order. */
    Logits run(SchedulerOutput batch) {
        if (batch.copySrc().length > 0) {
            backend.copyBlocks(batch.copySrc(), batch.copyDst());
        }
        return backend.forward(prepareInputs(batch.scheduled(), blockSize));
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
                inputIds[t] = seq.tokenId(pos);
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
