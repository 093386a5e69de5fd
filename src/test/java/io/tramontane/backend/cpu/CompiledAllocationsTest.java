package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The allocation check's failure says what was allocated and where, since that is all a failed CI run leaves. */
class CompiledAllocationsTest {
    private static Object sink;

    @Test
    void aCallThatAllocatesFailsNamingTheClassAndTheFrame() {
        assertThatThrownBy(() -> CompiledAllocations.assertNone("calls", 50, CompiledAllocationsTest::allocate,
                Duration.ofSeconds(2)))
                .hasMessageContaining("bytes allocated by 50 compiled calls")
                .hasMessageContaining("long[]")
                .hasMessageContaining(CompiledAllocationsTest.class.getName() + ".allocate");
    }

    @Test
    void aCallThatAllocatesNothingPasses() {
        long[] held = new long[64];
        CompiledAllocations.assertNone("calls", 1000, () -> held[0]++);
        assertThat(held[0]).isPositive();
    }

    private static void allocate() {
        sink = new long[4096];
    }
}
