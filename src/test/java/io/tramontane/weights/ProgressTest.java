package io.tramontane.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The console bar: redrawn per percent, clamped at its total, completed by finish() when the total was an estimate. */
class ProgressTest {
    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();
    private final Progress bar = Progress.bar(new PrintStream(sink, true, StandardCharsets.UTF_8), "uploading", 2_000_000);

    private String drawn() {
        return sink.toString(StandardCharsets.UTF_8);
    }

    @Test
    void finishCompletesAnUnderestimatedCount() {
        bar.advance(500_000);
        assertThat(drawn()).endsWith(" 25% 0.5/2.0 MB");
        bar.finish();
        assertThat(drawn()).endsWith("100% 2.0/2.0 MB" + System.lineSeparator());
        int length = drawn().length();
        bar.finish();
        assertThat(drawn()).hasSize(length);  // nothing more once full
    }

    @Test
    void countsBeyondTheTotalAreClampedAndEndTheLineOnce() {
        bar.advance(3_000_000);
        bar.advance(1);
        assertThat(drawn()).isEqualTo("\ruploading [" + "#".repeat(30) + "] 100% 2.0/2.0 MB" + System.lineSeparator());
    }

    @Test
    void silentDrawsNothing() {
        Progress.silent().advance(10);
        Progress.silent().finish();
        assertThat(drawn()).isEmpty();
    }
}
