package io.kindling.core;

import io.kindling.backend.Logits;
import io.kindling.tokenizer.Tokenizer;
import java.util.List;
import java.util.Optional;

/**
 * A sampled request: its {@code n} samples. It starts as one sequence, sample 0's; when its prompt is computed, the
 * first token of every sample is drawn from that one logits row and the sequence forks into the others, which share
 * its blocks.
 */
final class SampledRequest extends RequestGroup {

    private final List<SampleState> samples;
    private final Sequence first;

    /** @param samples sample 0 first, attached to {@code first}; the others attach when it forks */
    SampledRequest(Request request, List<SampleState> samples, Sequence first) {
        super(request);
        this.samples = List.copyOf(samples);
        this.first = first;
        this.samples.get(0).attach(first);
    }

    /** Whether the next token is the first, drawn for every sample: until then only sample 0 has a sequence. */
    private boolean forksNext() {
        return samples.size() > 1 && samples.get(1).seq() == null;
    }

    @Override
    void onLogits(Sequence seq, int row, Logits logits, StepDraws draws) {
        // index loops, no iterators: every request, every step
        if (forksNext()) {
            for (int i = 0; i < samples.size(); i++) {
                draws.add(row, samples.get(i));
            }
            return;
        }
        for (int i = 0; i < samples.size(); i++) {
            SampleState sample = samples.get(i);
            if (sample.seq() == seq) {
                draws.add(row, sample);
                return;
            }
        }
        throw new IllegalStateException("request " + request.requestId() + " has no sample for " + seq);
    }

    @Override
    int advance(Scheduler scheduler) {
        int generated = 0;
        if (forksNext()) {
            int[] tokens = samples.stream().mapToInt(SampleState::takeDrawn).toArray();
            List<Sequence> seqs = continueWith(scheduler, first, tokens);
            for (int i = 1; i < samples.size(); i++) {
                samples.get(i).attach(seqs.get(i));
            }
            for (SampleState sample : samples) {
                generated += detokenize(sample, scheduler);
            }
            return generated;
        }
        for (int i = 0; i < samples.size(); i++) {
            SampleState sample = samples.get(i);
            if (sample.hasDrawn()) {
                scheduler.append(sample.seq(), sample.takeDrawn());
                generated += detokenize(sample, scheduler);
            }
        }
        return generated;
    }

    /** Detokenizes a sample's new token and stops it at a stop string; one token generated. */
    private static int detokenize(SampleState sample, Scheduler scheduler) {
        if (sample.appendNewestToken() && !sample.seq().isFinished()) {
            scheduler.finish(sample.seq(), FinishReason.STOP);
        }
        return 1;
    }

    /** Except at the first token of {@code n > 1}, whose draws fork the sequence. */
    @Override
    boolean continuesWithDraws() {
        return !forksNext();
    }

    @Override
    boolean isFinished() {
        for (int i = 0; i < samples.size(); i++) {
            if (!samples.get(i).isFinished()) {
                return false;
            }
        }
        return true;
    }

    @Override
    RequestOutput finalOutput(Tokenizer tokenizer) {
        return new RequestOutput(request.requestId(), request.promptTokenIds(),
                samples.stream().map(SampleState::completion).toList(), Optional.empty());
    }

    @Override
    void abort(Scheduler scheduler) {
        for (SampleState sample : samples) {
            if (sample.seq() != null) {
                scheduler.finish(sample.seq(), FinishReason.ABORT);
            }
        }
    }
}
