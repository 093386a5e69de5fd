package io.tramontane.cuda;

/** CUstreamCaptureMode: which unsafe API calls other threads may make while a stream is being captured. */
public enum CaptureMode {
    GLOBAL(0), THREAD_LOCAL(1), RELAXED(2);

    final int value;

    CaptureMode(int value) {
        this.value = value;
    }
}
