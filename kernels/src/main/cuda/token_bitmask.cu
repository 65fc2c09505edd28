// Structured output: an allowed-token bitmask applied to logits rows in place, before sampling (vLLM and XGrammar
// apply theirs the same way). The host uploads one bitmask per masked row (bit id & 31 of word id >> 5, 1 = allowed,
// TokenBitmask.java is the CPU twin); the logits never leave the device. Disallowed tokens become -inf, as do ids
// past the mask's words (a logits row wider than the tokenizer's vocabulary).
#include <math.h>

// grid = masked rows, block = 256. uploads: [num_rows] row indices, [num_rows] mask indices, then the distinct masks'
// words, [num_masks][words] (rows in one automaton state share one mask, so a batch uploads each once).
extern "C" __global__ void kd_apply_token_bitmask(float* __restrict__ logits, int vocab,
                                                  const int* __restrict__ uploads, int num_rows, int words) {
    const int row = uploads[blockIdx.x];
    const int* __restrict__ mask = uploads + 2 * num_rows + static_cast<size_t>(uploads[num_rows + blockIdx.x]) * words;
    float* __restrict__ r = logits + static_cast<size_t>(row) * vocab;
    // one warp reads a mask word per 32 consecutive ids: the word load is a broadcast
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        const int w = i >> 5;
        const bool allowed = w < words && ((mask[w] >> (i & 31)) & 1);
        if (!allowed) {
            r[i] = -INFINITY;
        }
    }
}
