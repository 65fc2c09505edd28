package io.kindling.backend.cpu;

import io.kindling.backend.Backend;
import io.kindling.backend.BatchInputs;
import io.kindling.backend.Logits;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Random;

/**
 * Plays the engine's part for backend tests: hands out KV blocks (in order, or shuffled so block tables are not
 * contiguous), flattens scheduled tokens into {@link BatchInputs} and keeps each token's logits by position.
 */
final class PagedDriver {

    /** One sequence: its tokens, its block table and the logits of every position computed so far. */
    static final class Seq {
        final int[] tokens;
        final List<Integer> blocks = new ArrayList<>();
        final float[][] logits;
        int computed;

        Seq(int[] tokens) {
            this.tokens = tokens;
            this.logits = new float[tokens.length][];
        }
    }

    private final Backend backend;
    private final int blockSize;
    private final Deque<Integer> freeBlocks = new ArrayDeque<>();

    /** @param shuffleSeed null hands out blocks 0, 1, 2, ...; otherwise in a seeded random order */
    PagedDriver(Backend backend, int numBlocks, int blockSize, Long shuffleSeed) {
        this.backend = backend;
        this.blockSize = blockSize;
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) {
            ids.add(i);
        }
        if (shuffleSeed != null) {
            Collections.shuffle(ids, new Random(shuffleSeed));
        }
        freeBlocks.addAll(ids);
        backend.allocateKvCache(numBlocks, blockSize);
    }

    /** Runs one step scheduling {@code counts[i]} new tokens of {@code seqs[i]}, keeping all their logits. */
    void step(List<Seq> seqs, int... counts) {
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        int[] ids = new int[total];
        int[] positions = new int[total];
        int[] slots = new int[total];
        int[] queryStartLoc = new int[seqs.size() + 1];
        int[] seqLens = new int[seqs.size()];
        int[][] tables = new int[seqs.size()][];
        int[] logitsIndices = new int[total];
        int t = 0;
        for (int s = 0; s < seqs.size(); s++) {
            Seq seq = seqs.get(s);
            int end = seq.computed + counts[s];
            while (seq.blocks.size() * blockSize < end) {
                seq.blocks.add(freeBlocks.pop());
            }
            for (int pos = seq.computed; pos < end; pos++, t++) {
                ids[t] = seq.tokens[pos];
                positions[t] = pos;
                slots[t] = seq.blocks.get(pos / blockSize) * blockSize + pos % blockSize;
                logitsIndices[t] = t;
            }
            queryStartLoc[s + 1] = t;
            seqLens[s] = end;
            tables[s] = seq.blocks.stream().mapToInt(Integer::intValue).toArray();
        }
        float[][] logits = rows(backend.forward(new BatchInputs(ids, positions, slots, queryStartLoc, seqLens, tables,
                logitsIndices)));
        t = 0;
        for (int s = 0; s < seqs.size(); s++) {
            Seq seq = seqs.get(s);
            for (int i = 0; i < counts[s]; i++, t++) {
                seq.logits[seq.computed + i] = logits[t];
            }
            seq.computed += counts[s];
        }
    }

    /** Every row of {@code logits}, on the heap. */
    static float[][] rows(Logits logits) {
        float[][] rows = new float[logits.numRows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = logits.row(i);
        }
        return rows;
    }

    /** Runs a lone sequence through the given chunk sizes and returns the logits of every position. */
    static float[][] runAlone(Backend backend, int blockSize, Long shuffleSeed, int[] tokens, int... chunks) {
        PagedDriver driver = new PagedDriver(backend, 64, blockSize, shuffleSeed);
        Seq seq = new Seq(tokens);
        for (int chunk : chunks) {
            driver.step(List.of(seq), chunk);
        }
        return seq.logits;
    }
}
