package io.tramontane.backend.cuda;

import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.LaunchConfig;
import java.util.List;

/**
 * A ring shape of the decode gemv (cuda-kernels/linear_core.cuh's {@code Layout<ROWS, CHUNKS, STAGES>}) and how to
 * launch it: blocks of {@link #WARPS} warps, each warp streaming {@code rowsPerWarp} rows through a per-thread ring of
 * {@code stages} stages of {@code chunks} 16-byte chunks a row, {@link #TOKENS} tokens a block; {@code blocksPerSm}
 * resident blocks per SM (the kernel's launch bounds). The kernel is {@code linear_gemv_<format><suffix>}.
 */
record GemvLayout(String suffix, int rowsPerWarp, int chunks, int stages, int blocksPerSm) {
    static final int WARPS = 8, THREADS = 32 * WARPS, TOKENS = 4;
    /**
     * The layout LinearKernels launches: 4 rows a warp (each x load feeds four weights), 65 KB of shared memory, 2 blocks
     * per SM (3 would cap it at 80 registers, which spill). On an H200 it beat 2 rows a warp at 3 blocks per SM by
     * 1.00-1.38x on Devstral Small's e4m3 decode linears and 1.15x on the BF16 head (docs/gpu-log.md, 2026-11-26).
     */
    static final GemvLayout PRODUCTION = new GemvLayout("", 4, 1, 4, 2);
    /**
     * Timed beside it by GemvTiming (e4m3 and BF16 only), on what the production shape leaves to L1 (x is re-read from
     * it for every row group): a 2-stage ring of 2 rows a warp (3 blocks per SM; its larger L1 won o and down by
     * 1.13-1.19x on an H200, 2026-11-26), 4 rows a warp with 3 stages (L1 large enough for down's 128 KB of x) and 8 rows
     * a warp with 2 stages (each x load feeds eight weights).
     */
    static final List<GemvLayout> ALTERNATIVES = List.of(new GemvLayout("_r2c2s2", 2, 2, 2, 3), new GemvLayout("_r4c1s3", 4, 1, 3, 2),
            new GemvLayout("_r8c1s2", 8, 1, 2, 2));

    /** {@link #PRODUCTION}, then the {@link #ALTERNATIVES}. */
    static List<GemvLayout> all() {
        List<GemvLayout> all = new java.util.ArrayList<>(ALTERNATIVES);
        all.addFirst(PRODUCTION);
        return all;
    }

    /** "r4c1s4": rows a warp, chunks a stage, stages. */
    String name() {
        return "r" + rowsPerWarp + "c" + chunks + "s" + stages;
    }

    String kernel(WeightFormat format) {
        return "linear_gemv_" + format.suffix + suffix;
    }

    /** The ring, then the parts' partial sums of two units: [2][warp][row of the warp][token] floats. */
    int sharedBytes() {
        return stages * rowsPerWarp * chunks * THREADS * 16 + 2 * WARPS * rowsPerWarp * TOKENS * Float.BYTES;
    }

    /**
     * The warps a row is split over: the fewest (a power of two up to 8) that give every resident warp of the device
     * rows to stream, so that narrow layers (k/v: 1024 rows) do not leave SMs idle.
     */
    int parts(int n, int multiprocessors) {
        long wanted = (long) blocksPerSm * WARPS * multiprocessors, rowGroups = ceil(n, rowsPerWarp);
        int parts = 1;
        while (parts < WARPS && rowGroups * parts < wanted) parts *= 2;
        return parts;
    }

    /** The warps a row is split over in one launch for weights of {@code rows[s]} rows: by all their rows. */
    int parts(int[] rows, int multiprocessors) {
        int total = 0;
        for (int n : rows) total = Math.addExact(total, n);
        return parts(total, multiprocessors);
    }

    /**
     * The launch for {@code m} tokens (up to 8) through weights of {@code rows[s]} output rows (up to three sharing x, in
     * one launch: their units side by side): blocks that each walk an equal share of the units of
     * {@code WARPS / parts * rowsPerWarp} rows, parts by the rows of all the weights (the fewest blocks that fill the
     * resident slots no more than the units allow, so that all finish together), grid.y over the tokens.
     */
    LaunchConfig config(int m, int[] rows, int multiprocessors) {
        Launcher.requirePositive("gemv shape", m, java.util.Arrays.stream(rows).asLongStream().sum(), multiprocessors);
        int tokenGroups = ceil(m, TOKENS), unitRows = WARPS / parts(rows, multiprocessors) * rowsPerWarp;
        long units = 0;
        for (int n : rows) units += ceil(n, unitRows);
        long slots = Math.max(1, (long) blocksPerSm * multiprocessors / tokenGroups);
        int unitsPerBlock = Math.toIntExact((units + slots - 1) / slots);
        return new LaunchConfig(Dim3.of(ceil(units, unitsPerBlock), tokenGroups), Dim3.of(THREADS), sharedBytes());
    }

    /** {@link #config(int, int[], int)} for one weight of {@code n} rows. */
    LaunchConfig config(int m, int n, int multiprocessors) {
        return config(m, new int[] {n}, multiprocessors);
    }

    /** The kernel of {@code format} in this layout, allowed its shared memory (above the 48 KB a kernel gets unasked). */
    Launcher launcher(KernelModule module, WeightFormat format) {
        Launcher launcher = Launcher.of(module, kernel(format), LinearKernels.GEMV_PARAMETERS);
        module.driver().setMaxDynamicSharedMemory(launcher.kernel(), sharedBytes());
        return launcher;
    }

    private static int ceil(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }
}
