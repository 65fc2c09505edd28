package io.kindling.core;

import io.kindling.sampling.SamplingParams;

/** A tokenized prompt and how to sample its continuation. {@code requestId} is unique among live requests. */
public record Request(String requestId, int[] promptTokenIds, SamplingParams params) {
}
