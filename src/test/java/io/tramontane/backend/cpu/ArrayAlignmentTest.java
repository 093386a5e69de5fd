package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ArrayAlignmentTest {

    @ParameterizedTest(name = "address {0} -> {1}")
    @CsvSource({"0,0", "64,0", "4096,0", "16,12", "8,14", "60,1", "56,2", "4140,5", "2,0", "5,0"})
    void startIsTheFirstFloatOnA64ByteBoundary(long address, int start) {
        assertThat(ArrayAlignment.startOf(address)).isEqualTo(start);
        if (start > 0) assertThat((address + 4L * start) % 64).isZero();
    }

    /** The build runs tests with native access, as the launcher runs the engine: there the address is known. */
    @ParameterizedTest(name = "{0} floats")
    @ValueSource(ints = {1, 100, 1 << 20, 3 << 20})
    void aRealArrayGetsAStartWithinTheSlack(int floats) {
        assertThat(ArrayAlignment.class.getModule().isNativeAccessEnabled()).isTrue();
        assertThat(ArrayAlignment.knowsAddresses()).isTrue();
        assertThat(ArrayAlignment.start(new float[floats + ArrayAlignment.SLACK])).isBetween(0, ArrayAlignment.SLACK);
    }
}
