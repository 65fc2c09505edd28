package io.kindling.backend;

import java.util.Arrays;

/**
 * Checks a {@link BatchInputs} against the contract before any K/V is written, so an engine bug surfaces as a
 * message naming the sequence and token instead of a corrupted cache or an index error deep in a kernel.
 *
 * @param numBlocks the KV cache's blocks, of {@code blockSize} slots each
 */
public record BatchValidator(int vocabSize, int numBlocks, int blockSize) {

    /**
     * @return the sequence index of every token
     * @throws IllegalArgumentException naming the sequence and token that break the contract
     */
    public int[] tokenSequences(BatchInputs b) {
        validate(b);
        int[] tokenSeq = new int[b.numTokens()];
        for (int s = 0; s < b.numSeqs(); s++) {
            Arrays.fill(tokenSeq, b.queryStartLoc()[s], b.queryStartLoc()[s + 1], s);
        }
        return tokenSeq;
    }

    /**
     * Checks the batch, allocating nothing (a GPU backend runs it every step).
     *
     * @throws IllegalArgumentException naming the sequence and token that break the contract
     */
    public void validate(BatchInputs b) {
        int n = b.numTokens();
        int numSeqs = b.numSeqs();
        // the arrays' lengths fit the counts by construction (BatchInputs)
        if (b.queryStartLoc()[0] != 0 || b.queryStartLoc()[numSeqs] != n) {
            throw invalid("queryStartLoc must run from 0 to numTokens " + n);
        }
        // messages are built only on failure: this runs every step over every block of every sequence
        for (int s = 0; s < numSeqs; s++) {
            int start = b.queryStartLoc()[s];
            int qlen = b.queryStartLoc()[s + 1] - start;
            int seqLen = b.seqLens()[s];
            int[] table = b.blockTables()[s];
            if (qlen < 0 || qlen > seqLen) {
                throw invalid("sequence " + s + ": " + qlen + " new tokens but seqLen " + seqLen);
            }
            if ((long) table.length * blockSize < seqLen) {
                throw invalid("sequence " + s + ": seqLen " + seqLen + " exceeds its " + table.length + " blocks");
            }
            for (int i = 0; i * blockSize < seqLen; i++) {
                if (table[i] < 0 || table[i] >= numBlocks) {
                    throw invalid("sequence " + s + ": block id " + table[i] + " outside the cache's " + numBlocks
                            + " blocks");
                }
            }
            for (int j = 0; j < qlen; j++) {
                int t = start + j;
                int pos = seqLen - qlen + j;
                if (b.positions()[t] != pos) {
                    throw invalid("sequence " + s + " token " + t + ": position " + b.positions()[t] + ", expected "
                            + pos);
                }
                int slot = table[pos / blockSize] * blockSize + pos % blockSize;
                if (b.slotMapping()[t] != slot) {
                    throw invalid("sequence " + s + " token " + t + ": slot " + b.slotMapping()[t]
                            + ", block table gives " + slot);
                }
                int id = b.inputIds()[t];
                if (id < 0 || id >= vocabSize) {
                    throw invalid("sequence " + s + " token " + t + ": id " + id + " outside vocabulary of "
                            + vocabSize);
                }
            }
        }
        for (int i = 0; i < b.numLogits(); i++) {
            int index = b.logitsIndices()[i];
            if (index < 0 || index >= n) {
                throw invalid("logits index " + index + " outside the batch's " + n + " tokens");
            }
        }
    }

    private static IllegalArgumentException invalid(String problem) {
        return new IllegalArgumentException("invalid batch: " + problem);
    }
}
