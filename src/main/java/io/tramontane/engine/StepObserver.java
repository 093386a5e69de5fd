package io.tramontane.engine;

/** Told about every forward step (on the engine thread: keep it cheap), e.g. for batch histograms. */
@FunctionalInterface
public interface StepObserver {
    void onStep(int sequences, int tokens, long nanos);

    StepObserver NONE = (sequences, tokens, nanos) -> {};
}
