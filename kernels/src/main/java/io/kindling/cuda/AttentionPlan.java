package io.kindling.cuda;

import io.kindling.backend.BatchInputs;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One step's attention work as {@link PagedAttention#prepare} plans it: which sequences decode (one query token)
 * and how their contexts are split, which 64-token query tiles prefill, and where each int32 array sits in the one
 * metadata upload (offsets in ints):
 * <ul>
 *   <li>{@code work [4 + 8 * workSlots]}: the number of decode work items, three unused ints, then per item
 *       {@code {seq, partition, first key, end key, query token, partitions, first partial slot, 0}}
 *       (sequence-major), the slots being a prefix sum over the sequences split in more than one partition;
 *   <li>{@code seqLens [numSeqs]}, {@code queryStartLoc [numSeqs + 1]};
 *   <li>{@code tiles [numTiles][2]}: (sequence, first query row) of each prefill tile;
 *   <li>{@code blockTables [numSeqs][blockTableStride]}.
 * </ul>
 * A decode sequence's split depends on its own context alone ({@link DecodeTuning#partitions}), never on the
 * batch, so its output has the same bits in any batch. In a decode-only step the work list is laid out for the most
 * items the stride allows, so every offset and grid size is a function of (numSeqs, blockTableStride): see
 * {@link #launchShape()}.
 *
 * @param numWork    decode work items: partitions of every decode sequence
 * @param workSlots  items the work list has room for: the decode grid's x (blocks past numWork return at once)
 * @param splitSlots partial-output slots the step uses
 * @param maxSplit   most partitions of any decode sequence (for benchmarks and tests)
 */
record AttentionPlan(
        int numSeqs,
        int numDecode,
        int numWork,
        int workSlots,
        int splitSlots,
        int maxSplit,
        int numTiles,
        int blockTableStride) {

    /** As {@code kMaxPartitions} in paged_attention.cu. */
    static final int MAX_PARTITIONS = 128;
    /** As {@code kPrefillRows} in paged_attention.cu. */
    static final int TILE_ROWS = 64;
    private static final int WORK_HEADER = 4;
    private static final int ITEM_INTS = 8;

    /** What the launches of this plan depend on: equal shapes launch with equal arguments and grids. */
    record LaunchShape(int numSeqs, int numDecode, int workSlots, int numTiles, int blockTableStride) {
    }

    LaunchShape launchShape() {
        return new LaunchShape(numSeqs, numDecode, workSlots, numTiles, blockTableStride);
    }

    int workAt() {
        return 0;
    }

    int seqLensAt() {
        return WORK_HEADER + ITEM_INTS * workSlots;
    }

    int queryStartLocAt() {
        return seqLensAt() + numSeqs;
    }

    int tilesAt() {
        return queryStartLocAt() + numSeqs + 1;
    }

    int blockTablesAt() {
        return tilesAt() + 2 * numTiles;
    }

    /** Ints of the upload. */
    int numInts() {
        return blockTablesAt() + numSeqs * blockTableStride;
    }

    /** Most partitions any decode sequence of at most {@code maxBlocks} blocks can have. */
    static int maxPartitions(int maxBlocks, int blockSize, int window, DecodeTuning tuning) {
        return tuning.partitions((int) Math.min((long) maxBlocks * blockSize, window));
    }

    /** Ints the metadata of a step can take at most. */
    static long capacityInts(int maxNumSeqs, int maxNumBatchedTokens, int maxBlocksPerSeq, int maxPartitions) {
        long maxTiles = maxNumBatchedTokens / TILE_ROWS + (long) maxNumSeqs;
        return WORK_HEADER + (long) ITEM_INTS * maxNumSeqs * maxPartitions + 2L * maxNumSeqs + 1 + 2 * maxTiles
                + (long) maxNumSeqs * maxBlocksPerSeq;
    }

    /** The first key a query at {@code pos} sees under a sliding window (Integer.MAX_VALUE: none). */
    static int windowStart(int pos, int window) {
        return pos >= window ? pos - window + 1 : 0;
    }

    /**
     * Plans {@code batch} with block tables of at least {@code minBlockTableStride} entries and writes its metadata
     * to {@code dst} from position 0, decode contexts split as {@code tuning} says.
     */
    static AttentionPlan write(BatchInputs batch, int blockSize, int window, DecodeTuning tuning,
                               int minBlockTableStride, IntBuffer dst) {
        int numSeqs = batch.numSeqs();
        int[] qsl = batch.queryStartLoc();
        int[] seqLens = batch.seqLens();
        List<int[]> tiles = new ArrayList<>();  // {seq, first row, keys seen}
        int stride = Math.max(1, minBlockTableStride);
        int numDecode = 0;
        int numWork = 0;
        int splitSlots = 0;
        int maxSplit = 0;
        for (int s = 0; s < numSeqs; s++) {
            int qLen = qsl[s + 1] - qsl[s];
            int ctx = seqLens[s];
            stride = Math.max(stride, (ctx + blockSize - 1) / blockSize);
            if (qLen == 1) {
                int count = tuning.partitions(span(ctx, window));
                numDecode++;
                numWork += count;
                splitSlots += count > 1 ? count : 0;
                maxSplit = Math.max(maxSplit, count);
            } else {
                for (int row = 0; row < qLen; row += TILE_ROWS) {
                    int pos0 = ctx - qLen + row;
                    int last = pos0 + Math.min(TILE_ROWS, qLen - row) - 1;
                    tiles.add(new int[] {s, row, last - windowStart(pos0, window) + 1});
                }
            }
        }
        // longest tiles first, so the short ones fill in behind them
        tiles.sort(Comparator.comparingInt((int[] t) -> -t[2]).thenComparingInt(t -> t[0]).thenComparingInt(t -> t[1]));
        int workSlots = numDecode == numSeqs ? numSeqs * maxPartitions(stride, blockSize, window, tuning) : numWork;
        AttentionPlan plan = new AttentionPlan(numSeqs, numDecode, numWork, workSlots, splitSlots, maxSplit,
                tiles.size(), stride);

        dst.clear();
        dst.put(numWork).put(0).put(0).put(0);
        int slot = 0;
        for (int s = 0; s < numSeqs; s++) {
            if (qsl[s + 1] - qsl[s] == 1) {
                int ctx = seqLens[s];
                int first = windowStart(ctx - 1, window);
                int count = tuning.partitions(ctx - first);
                int length = (ctx - first + count - 1) / count;
                for (int p = 0; p < count; p++) {
                    int begin = first + p * length;
                    dst.put(s).put(p).put(begin).put(Math.min(ctx, begin + length)).put(qsl[s]).put(count).put(slot)
                            .put(0);
                }
                slot += count > 1 ? count : 0;
            }
        }
        dst.position(plan.seqLensAt());
        dst.put(seqLens, 0, numSeqs);
        dst.put(qsl, 0, numSeqs + 1);
        for (int[] t : tiles) {
            dst.put(t[0]).put(t[1]);
        }
        for (int s = 0; s < numSeqs; s++) {
            int[] table = batch.blockTables()[s];
            int used = Math.min(table.length, stride);
            dst.put(table, 0, used);
            for (int i = used; i < stride; i++) {
                dst.put(0);  // never read: the kernels stop at the sequence's last block
            }
        }
        return plan;
    }

    private static int span(int ctx, int window) {
        return ctx - windowStart(ctx - 1, window);
    }
}
