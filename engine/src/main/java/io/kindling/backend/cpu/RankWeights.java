package io.kindling.backend.cpu;

import io.kindling.backend.TensorParallelPlan.Shard;
import io.kindling.backend.TensorParallelPlan.Slice;
import io.kindling.model.ModelConfig;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One tensor-parallel rank's projections, packed. QKV and gate/up are column-parallel (vLLM's
 * {@code ColumnParallelLinear}): the output rows of the rank's heads and MLP features, with their biases. o_proj and
 * down_proj are row-parallel ({@code RowParallelLinear}): the matching input columns, without bias, since the bias is
 * added once after the ranks' partial sums are reduced. The LM head holds the rows of the rank's vocabulary.
 *
 * @param layers one per decoder layer
 */
record RankWeights(List<Layer> layers, PackedMatrix lmHead) {

    record Layer(PackedMatrix qkv, PackedMatrix o, PackedMatrix gateUp, PackedMatrix down) {

        static Layer shard(LayerTensors t, Shard shard, ModelConfig config, PanelKernel kernel) {
            int hidden = config.hiddenSize();
            Slice q = shard.queryHeads().times(config.headDim());
            Slice kv = shard.kvHeads().times(config.headDim());
            Slice features = shard.intermediate();
            PackedMatrix qkv = PackedMatrix.pack(kernel, hidden,
                    List.of(rows(t.q(), hidden, q), rows(t.k(), hidden, kv), rows(t.v(), hidden, kv)),
                    Arrays.asList(slice(t.qBias(), q), slice(t.kBias(), kv), slice(t.vBias(), kv)));
            PackedMatrix o = PackedMatrix.pack(kernel, q.size(), List.of(columns(t.o(), config.qSize(), q)),
                    Collections.singletonList(null));
            PackedMatrix gateUp = PackedMatrix.pack(kernel, hidden,
                    List.of(rows(t.gate(), hidden, features), rows(t.up(), hidden, features)),
                    Arrays.asList(slice(t.gateBias(), features), slice(t.upBias(), features)));
            PackedMatrix down = PackedMatrix.pack(kernel, features.size(),
                    List.of(columns(t.down(), config.intermediateSize(), features)), Collections.singletonList(null));
            return new Layer(qkv, o, gateUp, down);
        }

        long heapBytes() {
            return qkv.heapBytes() + o.heapBytes() + gateUp.heapBytes() + down.heapBytes();
        }
    }

    /** The rows of {@code head} ({@code [vocab, hidden]}) in the rank's vocabulary slice. */
    static PackedMatrix lmHead(float[] head, int hidden, Shard shard, PanelKernel kernel) {
        return PackedMatrix.pack(kernel, hidden, List.of(rows(head, hidden, shard.vocab())),
                Collections.singletonList(null));
    }

    long heapBytes() {
        return lmHead.heapBytes() + layers.stream().mapToLong(Layer::heapBytes).sum();
    }

    /** Rows {@code s} of a row-major {@code [out, in]} matrix; the matrix itself when that is all of it. */
    private static float[] rows(float[] w, int in, Slice s) {
        return s.start() == 0 && (long) s.end() * in == w.length ? w
                : Arrays.copyOfRange(w, s.start() * in, s.end() * in);
    }

    /** Columns {@code s} of a row-major {@code [out, in]} matrix; the matrix itself when that is all of it. */
    private static float[] columns(float[] w, int in, Slice s) {
        if (s.size() == in) {
            return w;
        }
        int out = w.length / in;
        float[] c = new float[out * s.size()];
        for (int o = 0; o < out; o++) {
            System.arraycopy(w, o * in + s.start(), c, o * s.size(), s.size());
        }
        return c;
    }

    private static float[] slice(float[] bias, Slice s) {
        return bias == null ? null : Arrays.copyOfRange(bias, s.start(), s.end());
    }
}
