package io.kindling.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kindling.backend.BatchInputs;
import io.kindling.backend.BatchValidator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The profile run's step must be a valid step of the engine's largest size. */
class ProfileBatchTest {

    @ParameterizedTest
    @CsvSource({"2048, 256, 16", "8192, 256, 16", "100, 256, 16", "1000, 7, 32", "1, 1, 1", "257, 256, 16"})
    void fillsMaxTokensOverAsManySequencesAsMayRunAndIsAValidStep(int maxTokens, int maxSeqs, int blockSize) {
        ProfileBatch profile = ProfileBatch.of(maxTokens, maxSeqs, blockSize);
        BatchInputs batch = profile.inputs();
        int numSeqs = Math.min(maxTokens, maxSeqs);
        assertEquals(maxTokens, batch.numTokens());
        assertEquals(numSeqs, batch.numSeqs());
        assertEquals(numSeqs, batch.numLogits());
        // throws naming the problem if any position, slot, block id or offset breaks the step contract
        int[] tokenSeq = new BatchValidator(1, profile.numBlocks(), blockSize).tokenSequences(batch);
        int blocks = 0;
        for (int s = 0; s < numSeqs; s++) {
            assertEquals(batch.queryStartLoc()[s + 1] - 1, batch.logitsIndices()[s], "last token of sequence " + s);
            assertEquals(s, tokenSeq[batch.logitsIndices()[s]]);
            blocks += batch.blockTables()[s].length;
            int len = batch.seqLens()[s];
            assertEquals(maxTokens / numSeqs + (s < maxTokens % numSeqs ? 1 : 0), len, "length of sequence " + s);
        }
        assertEquals(blocks, profile.numBlocks(), "the scratch cache holds exactly the blocks written");
    }
}
