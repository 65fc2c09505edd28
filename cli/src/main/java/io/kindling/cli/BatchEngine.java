package io.kindling.cli;

import io.kindling.core.EngineStats;
import io.kindling.core.LlmEngine;
import io.kindling.core.Request;
import io.kindling.core.RequestOutput;
import io.kindling.tokenizer.Tokenizer;
import java.util.List;

/** What the generate loop needs of the engine; a seam so the loop's ordering can be tested without a model. */
interface BatchEngine {

    Tokenizer tokenizer();

    /** The longest sequence the engine serves: a prompt must be shorter. */
    int maxModelLen();

    /** @throws io.kindling.core.InvalidRequestException when the request can never be served */
    void addRequest(Request request);

    /** Runs one step; returns the requests that finished in it. */
    List<RequestOutput> step();

    EngineStats stats();

    static BatchEngine of(LlmEngine engine) {
        return new BatchEngine() {
            @Override
            public Tokenizer tokenizer() {
                return engine.tokenizer();
            }

            @Override
            public int maxModelLen() {
                return engine.maxModelLen();
            }

            @Override
            public void addRequest(Request request) {
                engine.addRequest(request);
            }

            @Override
            public List<RequestOutput> step() {
                return engine.step();
            }

            @Override
            public EngineStats stats() {
                return engine.stats();
            }
        };
    }
}
