package io.kindling.core;

import io.kindling.model.ModelConfig;
import io.kindling.sampling.SamplingParams;
import io.kindling.tokenizer.Tokenizer;
import java.util.List;

/**
 * The engine: {@code batch = scheduler.schedule(); logits = runner.run(batch); scheduler.postprocess(...)}.
 * Not thread-safe: one thread owns it.
 */
public final class LlmEngine implements AutoCloseable {

    /** Loads the checkpoint, tokenizer and backend; sizes the KV cache from {@code config.kvCacheMemoryBytes()}. */
    public static LlmEngine open(EngineConfig config) {
        throw new UnsupportedOperationException("TODO");
    }

    public Tokenizer tokenizer() {
        throw new UnsupportedOperationException("TODO");
    }

    public ModelConfig modelConfig() {
        throw new UnsupportedOperationException("TODO");
    }

    /** Sampling defaults: vLLM's, overridden by the checkpoint's generation_config.json. */
    public SamplingParams defaultSamplingParams() {
        throw new UnsupportedOperationException("TODO");
    }

    /** Queues a request. @throws InvalidRequestException when it can never be served (empty, too long) */
    public void addRequest(Request request) {
        throw new UnsupportedOperationException("TODO");
    }

    /** Runs one step; returns the requests that finished in it. */
    public List<RequestOutput> step() {
        throw new UnsupportedOperationException("TODO");
    }

    public boolean hasUnfinishedRequests() {
        throw new UnsupportedOperationException("TODO");
    }

    public EngineStats stats() {
        throw new UnsupportedOperationException("TODO");
    }

    /** Runs the requests to completion; outputs in the order given. */
    public List<RequestOutput> generate(List<Request> requests) {
        throw new UnsupportedOperationException("TODO");
    }

    @Override
    public void close() {
    }
}
