package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The calling convention the hand-written bindings share (libcuda, cuBLASLt, NCCL): a C function that returns a
 * status code, called through a downcall handle and checked by its library's rule; out-parameters live in a
 * confined arena for the duration of the call.
 */
public final class StatusCalls {
    /** A downcall returning a status; it declares Throwable because MethodHandle.invokeExact does. */
    @FunctionalInterface
    public interface Call {
        int invoke() throws Throwable;
    }

    /** A downcall whose single out-parameter is {@code out}. */
    @FunctionalInterface
    public interface OutCall {
        int invoke(MemorySegment out) throws Throwable;
    }

    /** Runs a call and throws the library's exception when its status says it failed. */
    @FunctionalInterface
    public interface Checked {
        void run(Call call);
    }

    private StatusCalls() {}

    /** The status {@code call} returns; what the downcall itself throws is rethrown unchecked (downcalls throw none). */
    public static int invoke(Call call) {
        try {
            return call.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("downcall threw a checked exception", t);
        }
    }

    public static int outInt(Checked checked, OutCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            checked.run(() -> call.invoke(out));
            return out.get(JAVA_INT, 0);
        }
    }

    public static long outLong(Checked checked, OutCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            checked.run(() -> call.invoke(out));
            return out.get(JAVA_LONG, 0);
        }
    }

    public static MemorySegment outAddress(Checked checked, OutCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            checked.run(() -> call.invoke(out));
            return out.get(ADDRESS, 0);
        }
    }

    /** The NUL-terminated text a library returned, or null for a null pointer. */
    public static String text(MemorySegment cString) {
        return cString.equals(MemorySegment.NULL) ? null : cString.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
