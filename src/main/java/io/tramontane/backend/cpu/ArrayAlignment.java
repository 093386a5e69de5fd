package io.tramontane.backend.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where the data of a {@code float[]} reaches a 64-byte boundary. The JVM aligns arrays to 8 bytes, so a 64-byte
 * vector loaded from one usually spans two cache lines, two L1 accesses. Tokens written from that index on are loaded
 * whole-line: the five-row tile loads eight token vectors per word of weights, and 512-token BF16 prefill ran 3-6%
 * faster with its tokens aligned (five interleaved pairs on the Emerald Rapids Xeon, 2026-11-27, docs/cpu-kernels.md).
 *
 * <p>Java does not say where an array lies; a critical downcall, which may take a heap array, does: {@code memset(a, 0,
 * 0)} writes nothing and returns its first argument, the address of {@code a[0]} during the call. The JVM may move the
 * array afterwards (a young array at its next collection; G1 does not move the humongous ones that hold long prompts),
 * which costs speed, never correctness: the index only says where the caller writes and reads. Without native access
 * (a JVM run without {@code --enable-native-access}) or a C library, every array starts at 0.
 */
final class ArrayAlignment {
    /** Floats a buffer needs beyond its data so the data can start at any index {@link #start} returns. */
    static final int SLACK = 15;

    /** {@code void *memset(void *, int, size_t)}, taking heap arrays; null without native access or a C library. */
    private static final MethodHandle MEMSET = memset();

    private ArrayAlignment() {}

    /** The first index of {@code a} whose address is a multiple of 64 bytes, now; 0 where that cannot be known. */
    static int start(float[] a) {
        if (MEMSET == null) return 0;
        long address;
        try {
            address = ((MemorySegment) MEMSET.invokeExact(MemorySegment.ofArray(a), 0, 0L)).address();
        } catch (Throwable e) {
            return 0;
        }
        return startOf(address);
    }

    /** False where {@link #start} always answers 0. */
    static boolean knowsAddresses() {
        return MEMSET != null;
    }

    /** The index, in floats, of the first 64-byte boundary at or after {@code address}; 0 if no float lies on one. */
    static int startOf(long address) {
        return (address & 3) != 0 ? 0 : (int) ((-address & 63) >> 2);
    }

    private static MethodHandle memset() {
        if (!ArrayAlignment.class.getModule().isNativeAccessEnabled()) return null;
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("memset").map(address -> linker.downcallHandle(address,
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                    Linker.Option.critical(true))).orElse(null);
        } catch (RuntimeException e) {  // no native linker on this platform
            return null;
        }
    }
}
