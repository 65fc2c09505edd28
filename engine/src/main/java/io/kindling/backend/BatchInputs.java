package io.kindling.backend;

/**
 * One forward step, flattened: the scheduled tokens of every sequence, concatenated in batch order. This is the
 * contract between the engine and every backend (the CPU's and the CUDA kernels'): K/V are written only at
 * {@code slotMapping} and read only through {@code blockTables}.
 *
 * <p>The arrays may be longer than the step: the counts ({@link #numTokens}, {@link #numSeqs}, {@link #numLogits})
 * say how many entries it uses, and the entries past them are stale. The engine refills one instance step after
 * step, growing its arrays only when a step exceeds them ({@link #reset}), so a step of any shape it has room for
 * allocates nothing; a backend therefore reads them during its {@code forward} call only and copies what it needs
 * afterwards (a GPU backend stages them into its own buffers there).
 *
 * <ul>
 *   <li>{@code inputIds [numTokens]}: token ids to run
 *   <li>{@code positions [numTokens]}: position of each token in its sequence
 *   <li>{@code slotMapping [numTokens]}: {@code blockTable[pos / B] * B + pos % B}, the cache slot each token's K/V
 *       goes to
 *   <li>{@code queryStartLoc [numSeqs + 1]}: offsets of each sequence's tokens in {@code inputIds} (cu_seqlens_q)
 *   <li>{@code seqLens [numSeqs]}: each sequence's context length after this step (computed + scheduled tokens)
 *   <li>{@code blockTables [numSeqs][]}: physical block ids of each sequence, in logical order: at least the
 *       {@code ceil(seqLen / B)} blocks that hold its context; entries after them are unspecified
 *   <li>{@code logitsIndices [numLogits]}: token indices (into {@code inputIds}) whose logits are wanted, in output
 *       order
 * </ul>
 */
public final class BatchInputs {

    private int[] inputIds;
    private int[] positions;
    private int[] slotMapping;
    private int[] queryStartLoc;
    private int[] seqLens;
    private int[][] blockTables;
    private int[] logitsIndices;
    private int numTokens;
    private int numSeqs;
    private int numLogits;

    /** An empty step, to be sized by {@link #reset}. */
    public BatchInputs() {
        this(new int[0], new int[0], new int[0], new int[1], new int[0], new int[0][], new int[0]);
    }

    /**
     * A step of exactly these arrays (a test's, a benchmark's or a profile run's): {@code inputIds} gives the token
     * count, {@code seqLens} the sequence count and {@code logitsIndices} the logits rows.
     *
     * @throws IllegalArgumentException where the other arrays' lengths do not match those counts
     */
    public BatchInputs(int[] inputIds, int[] positions, int[] slotMapping, int[] queryStartLoc, int[] seqLens,
                       int[][] blockTables, int[] logitsIndices) {
        int n = inputIds.length;
        int s = seqLens.length;
        if (positions.length != n || slotMapping.length != n) {
            throw new IllegalArgumentException("invalid batch: positions and slotMapping must have one entry per "
                    + "token (" + n + ")");
        }
        if (queryStartLoc.length != s + 1 || blockTables.length != s) {
            throw new IllegalArgumentException("invalid batch: queryStartLoc needs numSeqs + 1 entries and "
                    + "blockTables numSeqs, numSeqs = " + s);
        }
        this.inputIds = inputIds;
        this.positions = positions;
        this.slotMapping = slotMapping;
        this.queryStartLoc = queryStartLoc;
        this.seqLens = seqLens;
        this.blockTables = blockTables;
        this.logitsIndices = logitsIndices;
        this.numTokens = n;
        this.numSeqs = s;
        this.numLogits = logitsIndices.length;
    }

    /**
     * Makes this the inputs of a step of these counts, whose every entry below them the caller then writes. An array
     * too short for its count is replaced by one at least twice as long (contents not kept); none ever shrinks.
     */
    public void reset(int numSeqs, int numTokens, int numLogits) {
        inputIds = atLeast(inputIds, numTokens);
        positions = atLeast(positions, numTokens);
        slotMapping = atLeast(slotMapping, numTokens);
        queryStartLoc = atLeast(queryStartLoc, numSeqs + 1);
        seqLens = atLeast(seqLens, numSeqs);
        if (blockTables.length < numSeqs) {
            blockTables = new int[Math.max(numSeqs, 2 * blockTables.length)][];
        }
        logitsIndices = atLeast(logitsIndices, numLogits);
        this.numTokens = numTokens;
        this.numSeqs = numSeqs;
        this.numLogits = numLogits;
    }

    /** {@code array} if it holds {@code length} entries, else a new one of at least twice its length. */
    private static int[] atLeast(int[] array, int length) {
        return array.length >= length ? array : new int[Math.max(length, 2 * array.length)];
    }

    public int numTokens() {
        return numTokens;
    }

    public int numSeqs() {
        return numSeqs;
    }

    /** Entries of {@link #logitsIndices}: the logits rows the step returns. */
    public int numLogits() {
        return numLogits;
    }

    /** {@code [numTokens]}: the first entries of an array that may be longer (see the class comment). */
    public int[] inputIds() {
        return inputIds;
    }

    /** {@code [numTokens]} of an array that may be longer. */
    public int[] positions() {
        return positions;
    }

    /** {@code [numTokens]} of an array that may be longer. */
    public int[] slotMapping() {
        return slotMapping;
    }

    /** {@code [numSeqs + 1]} of an array that may be longer. */
    public int[] queryStartLoc() {
        return queryStartLoc;
    }

    /** {@code [numSeqs]} of an array that may be longer. */
    public int[] seqLens() {
        return seqLens;
    }

    /** {@code [numSeqs][]} of an array that may be longer. */
    public int[][] blockTables() {
        return blockTables;
    }

    /** {@code [numLogits]} of an array that may be longer. */
    public int[] logitsIndices() {
        return logitsIndices;
    }
}
