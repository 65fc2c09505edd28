package io.kindling.flink;

import io.kindling.core.RequestOutput;

/**
 * What the engine made of one row: its output, or the problem that keeps the row from being served (an empty prompt,
 * a prompt longer than the context, a bad parameter); the output is null when the request was never sent.
 */
record RowResult(RequestOutput output, int promptTokens, String problem) {

    boolean failed() {
        return problem != null;
    }
}
