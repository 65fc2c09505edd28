package io.kindling.core;

import io.kindling.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToIntFunction;
import java.util.stream.IntStream;

/** A stand-in "model" (a fixed function of a sequence's tokens) and helpers that drive a {@link Scheduler}. */
final class SchedulerFixtures {

    static final int EOS = 2;

    private SchedulerFixtures() {
    }

    /** A sequence whose prompt is {@code promptLen} tokens derived from its id. */
    static Sequence sequence(long seqId, int promptLen, SamplingParams params) {
        int[] prompt = IntStream.range(0, promptLen).map(j -> 1000 + (int) ((seqId * 37 + j * 11) % 500)).toArray();
        return new Sequence("req-" + seqId, seqId, prompt, params);
    }

    /** The next token after {@code tokens}: a hash in [10, 60), never EOS. */
    static int fakeModel(int[] tokens) {
        int h = 7;
        for (int t : tokens) {
            h = h * 31 + t;
        }
        return 10 + Math.floorMod(h, 50);
    }

    static Scheduler scheduler(KvCacheManager manager, SchedulerConfig config) {
        return new Scheduler(config, manager, new int[] {EOS});
    }

    /** {@link #fakeModel} applied to a sequence's tokens. */
    static final ToIntFunction<Sequence> FAKE_MODEL = seq -> fakeModel(seq.tokenIds());

    /** One engine step with {@link #fakeModel}; returns the schedule it ran. */
    static SchedulerOutput step(Scheduler scheduler) {
        return step(scheduler, FAKE_MODEL);
    }

    /** One engine step, sampling each sequence's next token with {@code model}; returns the schedule it ran. */
    static SchedulerOutput step(Scheduler scheduler, ToIntFunction<Sequence> model) {
        SchedulerOutput out = scheduler.schedule();
        complete(scheduler, out, model);
        return out;
    }

    /** Finishes a step already scheduled: samples with {@code model} and post-processes. */
    static void complete(Scheduler scheduler, SchedulerOutput out, ToIntFunction<Sequence> model) {
        List<Integer> sampled = new ArrayList<>();
        for (int i = 0; i < out.numScheduled(); i++) {
            if (out.samples(i)) {
                sampled.add(model.applyAsInt(out.seq(i)));
            }
        }
        postprocess(scheduler, out, sampled.stream().mapToInt(Integer::intValue).toArray());
    }

    /** "req-0=8" for 8 scheduled tokens; " sample" when the step samples the sequence's next token. */
    static List<String> describe(SchedulerOutput out) {
        List<String> described = new ArrayList<>();
        for (int i = 0; i < out.numScheduled(); i++) {
            described.add(out.seq(i).requestId() + "=" + out.numScheduledTokens(i) + (out.samples(i) ? " sample" : ""));
        }
        return described;
    }

    /**
     * Post-processes a step as the engine does for single samples: {@code tokens} holds one token per sampling
     * sequence in batch order, appended to those still live.
     *
     * @return the sequences that got a token
     */
    static List<Sequence> postprocess(Scheduler scheduler, SchedulerOutput out, int... tokens) {
        List<Sequence> rows = scheduler.postprocess(out);
        if (rows.size() != tokens.length) {
            throw new IllegalArgumentException(tokens.length + " tokens for " + rows.size() + " sampling sequences");
        }
        List<Sequence> updated = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            if (!rows.get(i).isFinished()) {
                scheduler.append(rows.get(i), tokens[i]);
                updated.add(rows.get(i));
            }
        }
        scheduler.endStep();
        return updated;
    }

    /** The output {@link #fakeModel} gives {@code prompt} alone, stopping only at {@code maxTokens}. */
    static int[] referenceOutput(int[] prompt, int maxTokens) {
        int[] tokens = Arrays.copyOf(prompt, prompt.length + maxTokens);
        for (int i = prompt.length; i < tokens.length; i++) {
            tokens[i] = fakeModel(Arrays.copyOf(tokens, i));
        }
        return Arrays.copyOfRange(tokens, prompt.length, tokens.length);
    }
}
