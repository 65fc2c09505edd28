package io.kindling.model;

import java.util.List;
import java.util.OptionalInt;

/**
 * What the engine needs from a checkpoint's {@code config.json}, normalised across transformers 4.x and 5.x.
 *
 * @param headDim explicit {@code head_dim}, else {@code hiddenSize / numAttentionHeads}
 * @param qkvBias biases on the q/k/v projections (Qwen2, or {@code attention_bias})
 * @param qkNorm per-head RMSNorm of q and k before RoPE (Qwen3)
 * @param slidingWindow attention window in tokens, when the checkpoint uses one
 * @param dtype the checkpoint's declared {@code torch_dtype}/{@code dtype}
 * @param eosTokenIds EOS ids from {@code config.json} (generation_config.json may add more)
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        Rope rope,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean qkNorm,
        OptionalInt slidingWindow,
        DType dtype,
        OptionalInt bosTokenId,
        List<Integer> eosTokenIds) {

    public int qSize() {
        return numAttentionHeads * headDim;
    }

    public int kvSize() {
        return numKeyValueHeads * headDim;
    }
}
