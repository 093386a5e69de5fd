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
 *
 * <p>Compiled, asking allocates nothing whether C2 inlines the call or not: the array's heap view is made once with the
 * array ({@link Buffer}), and {@code memset}'s pointer comes back as a {@code long} (the same register on every 64-bit
 * ABI), not as a segment. A view made per call and the returned segment cost 72 bytes a linear where C2 did not inline
 * the call, as in one of the test suite's runs at eight lanes (2026-11-27).
 */
final class ArrayAlignment {
    /** Floats a buffer needs beyond its data so the data can start at any index {@link Buffer#start} returns. */
    static final int SLACK = 15;

    /**
     * {@code void *memset(void *, int, size_t)}, taking heap arrays, its pointer returned as a {@code long}; null without
     * native access, a C library or 64-bit addresses.
     */
    private static final MethodHandle MEMSET = memset();

    private ArrayAlignment() {}

    /** A float array with the heap view its address is read through. */
    record Buffer(float[] floats, MemorySegment view) {
        Buffer(int length) {
            this(new float[length]);
        }

        private Buffer(float[] floats) {
            this(floats, MemorySegment.ofArray(floats));
        }

        /** The first index of {@link #floats} whose address is a multiple of 64 bytes, now; 0 where that cannot be known. */
        int start() {
            if (MEMSET == null) return 0;
            long address;
            try {
                address = (long) MEMSET.invokeExact(view, 0, 0L);
            } catch (Throwable e) {
                return 0;
            }
            return startOf(address);
        }
    }

    /** False where {@link Buffer#start} always answers 0. */
    static boolean knowsAddresses() {
        return MEMSET != null;
    }

    /** The index, in floats, of the first 64-byte boundary at or after {@code address}; 0 if no float lies on one. */
    static int startOf(long address) {
        return (address & 3) != 0 ? 0 : (int) ((-address & 63) >> 2);
    }

    private static MethodHandle memset() {
        if (!ArrayAlignment.class.getModule().isNativeAccessEnabled() || ValueLayout.ADDRESS.byteSize() != Long.BYTES) return null;
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("memset").map(address -> linker.downcallHandle(address,
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                    Linker.Option.critical(true))).orElse(null);
        } catch (RuntimeException e) {  // no native linker on this platform
            return null;
        }
    }
}
