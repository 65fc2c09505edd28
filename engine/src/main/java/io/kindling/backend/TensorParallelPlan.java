package io.kindling.backend;

import io.kindling.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * How {@code tensor_parallel_size} ranks split one model, Megatron-style, as vLLM's parallel layers do: QKV and
 * gate/up are column-parallel (each rank holds the output rows of its query heads, its KV heads and its slice of the
 * intermediate features), o_proj and down_proj row-parallel (each rank holds the matching input columns and yields a
 * partial sum that an all-reduce adds up), the KV cache is split by KV heads, and the LM head by vocabulary
 * (each rank computes the logits of its slice; gathering them gives whole rows). Device-independent: a backend
 * shards its weights and runs its ranks by this plan.
 *
 * @param shards one per rank, in rank order
 */
public record TensorParallelPlan(ModelConfig config, List<Shard> shards) {

    /** The rows {@code [start, end)} of a dimension that one rank holds. */
    public record Slice(int start, int end) {

        public int size() {
            return end - start;
        }

        /** The same slice of a dimension whose units are {@code width} wide (heads of {@code head_dim}). */
        public Slice times(int width) {
            return new Slice(start * width, end * width);
        }

        public boolean contains(int i) {
            return i >= start && i < end;
        }
    }

    /**
     * What rank {@code rank} holds.
     *
     * @param queryHeads   its attention heads
     * @param kvHeads      its KV heads: those its query heads read, so attention never crosses ranks
     * @param intermediate its MLP features
     * @param vocab        its LM head rows; may be shorter than the others' (the last) or empty
     */
    public record Shard(int rank, Slice queryHeads, Slice kvHeads, Slice intermediate, Slice vocab) {
    }

    public TensorParallelPlan {
        shards = List.copyOf(shards);
    }

    /**
     * Splits {@code config} over {@code tensorParallelSize} ranks: heads, KV heads and intermediate features evenly
     * (vLLM requires the same), the vocabulary in slices of {@code ceil(vocab_size / size)} with the rest on the
     * last ranks. Unlike vLLM's {@code VocabParallelEmbedding} the vocabulary is not padded: a rank's logits are
     * real tokens only, so the gathered rows need no trimming.
     *
     * @throws TensorParallelException naming the option and the model value it does not divide
     */
    public static TensorParallelPlan of(ModelConfig config, int tensorParallelSize) {
        int n = tensorParallelSize;
        if (n < 1) {
            throw new TensorParallelException("must be at least 1, got " + n);
        }
        requireDivides(n, config.numAttentionHeads(), "num_attention_heads", "each rank holds whole query heads");
        if (config.numKeyValueHeads() < n) {
            throw new TensorParallelException(n + " is more than num_key_value_heads " + config.numKeyValueHeads()
                    + ": replicating KV heads across ranks (as vLLM does) is not supported; use at most "
                    + config.numKeyValueHeads());
        }
        requireDivides(n, config.numKeyValueHeads(), "num_key_value_heads", "each rank holds whole KV heads");
        requireDivides(n, config.intermediateSize(), "intermediate_size", "each rank holds an equal MLP slice");
        int vocabPerRank = (config.vocabSize() + n - 1) / n;
        List<Shard> shards = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            shards.add(new Shard(r, even(r, n, config.numAttentionHeads()), even(r, n, config.numKeyValueHeads()),
                    even(r, n, config.intermediateSize()),
                    new Slice(Math.min(config.vocabSize(), r * vocabPerRank),
                            Math.min(config.vocabSize(), (r + 1) * vocabPerRank))));
        }
        return new TensorParallelPlan(config, shards);
    }

    public int tensorParallelSize() {
        return shards.size();
    }

    /** The rank whose vocabulary slice holds {@code tokenId}: where its (tied) embedding row lives. */
    public Shard vocabOwner(int tokenId) {
        for (Shard s : shards) {
            if (s.vocab().contains(tokenId)) {
                return s;
            }
        }
        throw new IllegalArgumentException("token " + tokenId + " is outside the vocabulary of "
                + config.vocabSize());
    }

    private static Slice even(int rank, int n, int total) {
        return new Slice(rank * (total / n), (rank + 1) * (total / n));
    }

    private static void requireDivides(int n, int value, String name, String why) {
        if (value % n != 0) {
            throw new TensorParallelException(n + " does not divide " + name + " " + value + " (" + why + ")");
        }
    }
}
