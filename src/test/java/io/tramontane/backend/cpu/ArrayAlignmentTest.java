package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;
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

    /**
     * The build runs tests with native access, as the launcher runs the engine: there the address is known, and the
     * start lands on a boundary (the address read here through a {@code memset} returning a pointer, as a segment).
     */
    @ParameterizedTest(name = "{0} floats")
    @ValueSource(ints = {1, 100, 1 << 20, 3 << 20})
    void aRealArrayGetsAStartWithinTheSlackOnABoundary(int floats) throws Throwable {
        assertThat(ArrayAlignment.class.getModule().isNativeAccessEnabled()).isTrue();
        assertThat(ArrayAlignment.knowsAddresses()).isTrue();
        var buffer = new ArrayAlignment.Buffer(floats + ArrayAlignment.SLACK);
        assertThat(buffer.floats()).hasSize(floats + ArrayAlignment.SLACK);
        Linker linker = Linker.nativeLinker();
        MethodHandle memset = linker.downcallHandle(linker.defaultLookup().find("memset").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                Linker.Option.critical(true));
        // no safepoint between the two calls can move a humongous array; a small young one might, so retry once
        for (int attempt = 0; attempt < 2; attempt++) {
            int start = buffer.start();
            long address = ((MemorySegment) memset.invokeExact(buffer.view(), 0, 0L)).address();
            if ((address + 4L * start) % 64 == 0) return;
        }
        throw new AssertionError("the start of a float[" + floats + "] is not on a 64-byte boundary, twice");
    }

    /**
     * Once compiled, asking allocates nothing, inlined or not: the view is made with the buffer and the pointer comes
     * back as a long (a view made per call and a returned segment cost 72 bytes a call in one run of the suite, where
     * C2 had not inlined the call; the interpreter's method-handle frames allocate either way).
     */
    @Test
    void askingTheStartAllocatesNothingOnceCompiled() {
        var buffer = new ArrayAlignment.Buffer(1000);
        int[] sum = {0};
        CompiledAllocations.assertNone("calls", 10_000, () -> sum[0] += buffer.start());
        assertThat(sum[0]).isNotNegative();
    }
}
