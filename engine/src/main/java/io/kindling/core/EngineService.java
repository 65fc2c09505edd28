package io.kindling.core;

import io.kindling.sampling.SamplingParams;
import io.kindling.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One {@link LlmEngine} on its own thread, fed by any number of threads (all Spark tasks of an executor): they
 * submit requests and wait on futures, so continuous batching sees all of their work at once.
 */
public final class EngineService implements AutoCloseable {

    private sealed interface Command permits Submit, Abort {
    }

    private record Submit(Request request, CompletableFuture<RequestOutput> result) implements Command {
    }

    private record Abort(String requestId) implements Command {
    }

    private final LlmEngine engine;
    private final LinkedBlockingQueue<Command> commands = new LinkedBlockingQueue<>();
    private final Map<String, CompletableFuture<RequestOutput>> pending = new HashMap<>();
    private final Thread thread;
    private volatile EngineStats stats;
    private final Object lifecycle = new Object();
    private volatile boolean closed;
    private boolean stopped;
    private volatile RuntimeException failure;
    private final AtomicLong submitted = new AtomicLong();

    private EngineService(LlmEngine engine, String name) {
        this.engine = engine;
        this.stats = engine.stats();
        this.thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Opens the engine on the calling thread (so load errors surface there) and starts its loop. */
    public static EngineService start(EngineConfig config) {
        return new EngineService(LlmEngine.open(config), "kindling-engine-" + config.model().getFileName());
    }

    public Tokenizer tokenizer() {
        return engine.tokenizer();
    }

    public SamplingParams defaultSamplingParams() {
        return engine.defaultSamplingParams();
    }

    public String device() {
        return engine.device();
    }

    /** Most sequences in one engine step, resolved from the device where the config left it auto. */
    public int maxNumSeqs() {
        return engine.maxNumSeqs();
    }

    /** Requests submitted so far, refused ones included: how often callers asked the model for something. */
    public long numRequests() {
        return submitted.get();
    }

    /** The counters as of the last step. */
    public EngineStats stats() {
        return stats;
    }

    /**
     * Queues a request. The future completes with its output (an error output if the engine refuses it), or
     * exceptionally if the engine fails or is closed.
     */
    public CompletableFuture<RequestOutput> submit(Request request) {
        submitted.incrementAndGet();
        CompletableFuture<RequestOutput> result = new CompletableFuture<>();
        synchronized (lifecycle) {
            if (stopped || closed) {
                RuntimeException failed = failure;
                result.completeExceptionally(failed != null ? new EngineFailedException(failed)
                        : new CancellationException("engine is closed"));
            } else {
                commands.add(new Submit(request, result));
            }
        }
        return result;
    }

    /** Drops a request whose caller no longer wants it (task ended early); frees its KV blocks. */
    public void abort(String requestId) {
        commands.add(new Abort(requestId));
    }

    private void loop() {
        try {
            while (!closed) {
                drain(engine.hasUnfinishedRequests());
                if (engine.hasUnfinishedRequests()) {
                    List<RequestOutput> finished = engine.step();
                    stats = engine.stats(); // before completing: a caller woken by its output sees this step
                    for (RequestOutput output : finished) {
                        CompletableFuture<RequestOutput> f = pending.remove(output.requestId());
                        if (f != null) {
                            f.complete(output);
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failure = e;
        }
        failOutstanding();
    }

    /** Takes the queued commands; waits for one when the engine has nothing to do. */
    private void drain(boolean busy) throws InterruptedException {
        List<Command> batch = new ArrayList<>();
        if (!busy) {
            Command first = commands.poll(100, TimeUnit.MILLISECONDS);
            if (first == null) {
                return;
            }
            batch.add(first);
        }
        commands.drainTo(batch);
        for (Command c : batch) {
            if (c instanceof Submit s) {
                try {
                    engine.addRequest(s.request());
                    pending.put(s.request().requestId(), s.result());
                } catch (InvalidRequestException e) {
                    s.result().complete(RequestGroup.error(s.request(), e.problem()));
                }
            } else if (c instanceof Abort a) {
                engine.abort(a.requestId());
                CompletableFuture<RequestOutput> f = pending.remove(a.requestId());
                if (f != null) {
                    f.cancel(false);
                }
            }
        }
    }

    private void failOutstanding() {
        RuntimeException failed = failure;
        List<Command> left = new ArrayList<>();
        synchronized (lifecycle) {
            stopped = true;
            commands.drainTo(left);
        }
        for (Command c : left) {
            if (c instanceof Submit s) {
                pending.put(s.request().requestId(), s.result());
            }
        }
        for (CompletableFuture<RequestOutput> f : pending.values()) {
            if (failed != null) {
                f.completeExceptionally(new EngineFailedException(failed));
            } else {
                f.cancel(false);
            }
        }
        pending.clear();
    }

    /** Stops the loop (outstanding requests are cancelled) and closes the engine. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        engine.close();
    }
}
