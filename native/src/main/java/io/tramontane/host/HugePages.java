package io.tramontane.host;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Off-heap memory on 2 MB pages, where Linux gives them (transparent huge pages, {@code enabled} set to
 * {@code always} or {@code madvise}). Decode streams every weight once per token; on 4 KB pages each 4 KB of that
 * stream is a TLB miss and a page walk. On the Emerald Rapids Xeon (2026-11-27) weights on 2 MB pages decoded one
 * sequence faster, BF16 by 2.0-3.4% and FP8 by 2.4-9.3% (alternated pairs; 16-sequence batches and prefill within
 * noise; docs/cpu-kernels.md).
 *
 * <p>The memory is mapped anonymous and private, advised {@code MADV_HUGEPAGE} before anything touches it, so the
 * kernel backs each 2 MB of it with one page at its first write (a page it cannot find falls back to 4 KB pages:
 * slower, never wrong). Memory a JVM allocator has already zeroed is on 4 KB pages by then, which is why this maps its
 * own. Elsewhere (another OS, no native access, a mapping refused) {@link #allocate} is {@code Arena.allocate}.
 */
public final class HugePages {
    /** The size of a huge page on x86-64 and (with 4 KB base pages) arm64 Linux. */
    public static final long SIZE = 2L << 20;

    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final Libc LIBC = Libc.bind();

    private record Libc(MethodHandle mmap, MethodHandle munmap, MethodHandle madvise) {
        static Libc bind() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) return null;
            if (!HugePages.class.getModule().isNativeAccessEnabled()) return null;
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                var address = ValueLayout.ADDRESS;
                var size = ValueLayout.JAVA_LONG;
                var integer = ValueLayout.JAVA_INT;
                return new Libc(
                        linker.downcallHandle(libc.find("mmap").orElseThrow(),
                                FunctionDescriptor.of(address, address, size, integer, integer, integer, size)),
                        linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(integer, address, size)),
                        linker.downcallHandle(libc.find("madvise").orElseThrow(),
                                FunctionDescriptor.of(integer, address, size, integer)));
            } catch (RuntimeException e) {  // no native linker here, or a C library without these symbols
                return null;
            }
        }
    }

    private HugePages() {}

    /** False where {@link #allocate} always takes the arena's own memory. */
    public static boolean mapsItsOwn() {
        return LIBC != null;
    }

    /**
     * {@code bytes} of zeroed memory, 64-byte aligned, freed when {@code arena} closes: from {@link #SIZE} bytes on
     * (smaller is one page at most) a private anonymous mapping starting on a 2 MB boundary, advised onto huge pages;
     * otherwise, or where that is not possible, {@code arena.allocate(bytes, 64)}.
     */
    public static MemorySegment allocate(Arena arena, long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
        if (LIBC == null || bytes < SIZE) return arena.allocate(bytes, 64);
        long length = (bytes + SIZE - 1) / SIZE * SIZE + SIZE;  // room to start on a boundary
        long base;
        try {
            // reserved against the commit limit (no MAP_NORESERVE): memory the machine cannot give fails here, as an
            // OutOfMemoryError from the arena below, not as the OOM killer at a page fault later
            base = ((MemorySegment) LIBC.mmap().invokeExact(MemorySegment.NULL, length, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L)).address();
        } catch (Throwable e) {
            return arena.allocate(bytes, 64);
        }
        if (base == -1L) return arena.allocate(bytes, 64);  // MAP_FAILED: let the arena fail, or succeed, its own way
        long start = (base + SIZE - 1) / SIZE * SIZE;
        try {
            int ignored = (int) LIBC.madvise().invokeExact(MemorySegment.ofAddress(start), length - (start - base), MADV_HUGEPAGE);
            // non-zero: a kernel without huge pages, whose mapping serves as well on 4 KB pages
        } catch (Throwable e) {
            unmap(base, length);
            return arena.allocate(bytes, 64);
        }
        return MemorySegment.ofAddress(start).reinterpret(bytes, arena, unused -> unmap(base, length));
    }

    private static void unmap(long base, long length) {
        try {
            int ignored = (int) LIBC.munmap().invokeExact(MemorySegment.ofAddress(base), length);
        } catch (Throwable e) {
            // nothing to do: the address range stays reserved until the process ends
        }
    }

    /**
     * Bytes of this process's anonymous memory on huge pages now ({@code AnonHugePages} of
     * {@code /proc/self/smaps_rollup}), or -1 where that cannot be read: what a benchmark reports to show that the kernel
     * did give the pages asked for.
     */
    public static long processHugeBytes() {
        try {
            return anonHugeBytes(Files.readAllLines(Path.of("/proc/self/smaps_rollup")));
        } catch (IOException | UnsupportedOperationException | NumberFormatException e) {
            return -1;
        }
    }

    /** {@code AnonHugePages} of the lines of an smaps or smaps_rollup file, summed, in bytes; -1 if none says it. */
    static long anonHugeBytes(List<String> smaps) {
        long huge = -1;
        for (String line : smaps) {
            if (line.startsWith("AnonHugePages:")) {
                huge = Math.max(huge, 0) + Long.parseLong(line.substring("AnonHugePages:".length()).replace("kB", "").trim()) * 1024;
            }
        }
        return huge;
    }
}
