package io.kindling.cuda;

import io.kindling.backend.BatchInputs;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One step's attention work as {@link PagedAttention#prepare} plans it: which sequences decode (one query token)
 * and how their contexts are split, which 64-token query tiles prefill, and where each int32 array sits in the one
 * metadata upload (offsets in ints): {@code seqLens [numSeqs]}, {@code queryStartLoc [numSeqs + 1]},
 * {@code decodeSeqs [numDecode]}, {@code tiles [numTiles][2]} (sequence, first query row) and
 * {@code blockTables [numSeqs][blockTableStride]}.
 *
 * @param decodePartitions most partitions of any decode sequence: the decode grid's x
 * @param partitionTokens  the step's partition length before the cap of {@link #MAX_PARTITIONS} per sequence
 */
record AttentionPlan(
        int numSeqs,
        int numDecode,
        int decodePartitions,
        int partitionTokens,
        int numTiles,
        int blockTableStride,
        int seqLensAt,
        int queryStartLocAt,
        int decodeSeqsAt,
        int tilesAt,
        int blockTablesAt,
        int numInts) {

    /** As {@code kMaxPartitions} in paged_attention.cu. */
    static final int MAX_PARTITIONS = 16;
    /** As {@code kPrefillRows} in paged_attention.cu. */
    static final int TILE_ROWS = 64;
    static final int LONG_PARTITION = 512;
    static final int SHORT_PARTITION = 128;

    /** What the launches of this plan depend on: equal shapes launch with equal arguments. */
    record LaunchShape(int numSeqs, int numDecode, int decodePartitions, int partitionTokens, int numTiles,
                       int blockTableStride) {
    }

    LaunchShape launchShape() {
        return new LaunchShape(numSeqs, numDecode, decodePartitions, partitionTokens, numTiles, blockTableStride);
    }

    boolean splitDecode() {
        return decodePartitions > 1;
    }

    /** Ints the metadata of a step can take at most. */
    static long capacityInts(int maxNumSeqs, int maxNumBatchedTokens, int maxBlocksPerSeq) {
        long maxTiles = maxNumBatchedTokens / TILE_ROWS + (long) maxNumSeqs;
        return (long) maxNumSeqs * (maxBlocksPerSeq + 3) + 1 + 2 * maxTiles;
    }

    /** Partitions of a decode sequence whose visible keys number {@code span}: as decode_split in the kernel. */
    static int partitions(int span, int partitionTokens) {
        return Math.min(MAX_PARTITIONS, (span + partitionTokens - 1) / partitionTokens);
    }

    /** The first key a query at {@code pos} sees under a sliding window (Integer.MAX_VALUE: none). */
    static int windowStart(int pos, int window) {
        return pos >= window ? pos - window + 1 : 0;
    }

    /**
     * Plans {@code batch} and writes its metadata to {@code dst} from position 0.
     *
     * @param decodeBlocksPerPartition blocks the decode grid has per (sequence, partition): kv heads x head chunks
     * @param numSms                   multiprocessors to fill: contexts are split finer while the grid is smaller
     */
    static AttentionPlan write(BatchInputs batch, int blockSize, int window, int decodeBlocksPerPartition,
                               int numSms, IntBuffer dst) {
        return write(batch, blockSize, window, decodeBlocksPerPartition, numSms, 1, dst);
    }

    /** As above, with block tables of at least {@code minBlockTableStride} entries and then a split fixed by it. */
    static AttentionPlan write(BatchInputs batch, int blockSize, int window, int decodeBlocksPerPartition,
                               int numSms, int minBlockTableStride, IntBuffer dst) {
        int numSeqs = batch.numSeqs();
        int[] qsl = batch.queryStartLoc();
        int[] seqLens = batch.seqLens();
        List<Integer> decode = new ArrayList<>();
        List<int[]> tiles = new ArrayList<>();  // {seq, first row, keys seen}
        int stride = Math.max(1, minBlockTableStride);
        for (int s = 0; s < numSeqs; s++) {
            int qLen = qsl[s + 1] - qsl[s];
            int ctx = seqLens[s];
            stride = Math.max(stride, (ctx + blockSize - 1) / blockSize);
            if (qLen == 1) {
                decode.add(s);
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

        int partitionTokens = LONG_PARTITION;
        // a graph's launches are fixed by (numSeqs, stride): the split then depends on the stride alone
        boolean fixedShape = minBlockTableStride > 1;
        while (!fixedShape && partitionTokens > SHORT_PARTITION && !decode.isEmpty()
                && (long) totalPartitions(decode, seqLens, window, partitionTokens) * decodeBlocksPerPartition
                < numSms) {
            partitionTokens /= 2;
        }
        int decodePartitions = fixedShape && !decode.isEmpty()
                ? partitions(Math.min(stride * blockSize, window), partitionTokens) : 0;
        for (int s : decode) {
            decodePartitions = Math.max(decodePartitions, partitions(span(seqLens[s], window), partitionTokens));
        }

        int seqLensAt = 0;
        int queryStartLocAt = seqLensAt + numSeqs;
        int decodeSeqsAt = queryStartLocAt + numSeqs + 1;
        int tilesAt = decodeSeqsAt + decode.size();
        int blockTablesAt = tilesAt + 2 * tiles.size();
        int numInts = blockTablesAt + numSeqs * stride;
        dst.clear();
        dst.put(seqLens, 0, numSeqs);
        dst.put(qsl, 0, numSeqs + 1);
        for (int s : decode) {
            dst.put(s);
        }
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
        return new AttentionPlan(numSeqs, decode.size(), decodePartitions, partitionTokens, tiles.size(), stride,
                seqLensAt, queryStartLocAt, decodeSeqsAt, tilesAt, blockTablesAt, numInts);
    }

    private static int span(int ctx, int window) {
        return ctx - windowStart(ctx - 1, window);
    }

    private static long totalPartitions(List<Integer> decode, int[] seqLens, int window, int partitionTokens) {
        long total = 0;
        for (int s : decode) {
            total += partitions(span(seqLens[s], window), partitionTokens);
        }
        return total;
    }
}
