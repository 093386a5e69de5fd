package io.tramontane.backend.cpu;

import io.tramontane.host.HugePages;
import java.util.Locale;

/**
 * How the CPU backend holds linear weights: as stored in the checkpoint, read where it is mapped or copied at load into
 * the backend's own memory on 2 MB pages ({@link HugePages}), or quantized at load time into blocks of {@link #BLOCK}
 * input features with one scale per block (q8 FP32 on 4 KB pages, q4 BF16 on 2 MB pages; see {@link Quantizer}). Norms,
 * embeddings and the MoE router are always kept as stored; the output head is a linear and is quantized (or copied)
 * like the others (as llama.cpp does for Q8_0).
 */
public enum CpuWeights {
    /** The checkpoint's own dtype, decoded inside the kernels, read where the checkpoint is mapped (4 KB pages). */
    STORED(0, 0),
    /**
     * The checkpoint's own dtype, copied at load into the backend's memory on 2 MB pages: one sequence decoded 2-9%
     * faster on the Emerald Rapids Xeon (docs/cpu-kernels.md), for load time and memory that the page cache no longer
     * shares.
     */
    COPIED(0, 0),
    /** int8 quants {@code q in [-127, 127]}, value {@code scale * q}, FP32 scales: 36 bytes per 32 weights. */
    Q8(32, 4),
    /**
     * 4-bit quants {@code q in [-8, 7]}, value {@code scale * q}, BF16 scales: 18 bytes per 32 weights, as llama.cpp's
     * Q4_0. Multiplied with int8 activations (as Q4_0 is with Q8_0 ones): see {@link Q4Rows}.
     */
    Q4(16, 2);

    /** Input features per block of one scale. */
    public static final int BLOCK = 32;
    /** The names {@link #parse} takes, for messages. */
    public static final String NAMES = "stored, copied, q8 or q4";
    private final int quantBytesPerBlock, scaleBytes;

    CpuWeights(int quantBytesPerBlock, int scaleBytes) {
        this.quantBytesPerBlock = quantBytesPerBlock;
        this.scaleBytes = scaleBytes;
    }

    /**
     * Bytes of one block's scale: FP32 for q8, whose one-row kernels read a scale per block (converting halves cost
     * them 5% on this compute-bound 2-vCPU machine, 2026-11-25); BF16 for q4, whose kernels load a vector of scales per
     * group of blocks, where widening BF16 is a shift.
     */
    int scaleBytes() {
        return scaleBytes;
    }

    /** Refuses a null format: every options record that carries one requires it. */
    public static void requireGiven(CpuWeights weights) {
        if (weights == null) throw new IllegalArgumentException("CPU weights format must be given (" + NAMES + ")");
    }

    /** Refuses a null format, and any but stored on a backend other than cpu (cuda runs the stored weights). */
    public static void requireFor(String backend, CpuWeights weights) {
        requireGiven(weights);
        if (weights != STORED && !backend.equals("cpu")) {
            throw new IllegalArgumentException("CPU weights " + weights.cliName() + " apply to the CPU backend only; the "
                    + backend + " backend runs the stored weights");
        }
    }

    /** Whether the linears are quantized at load (q8, q4), else in the checkpoint's dtype. */
    public boolean quantized() {
        return quantBytesPerBlock > 0;
    }

    /** Bytes of one block's quants (0 unless {@link #quantized}). */
    int quantBytesPerBlock() {
        return quantBytesPerBlock;
    }

    /** Blocks per row of {@code cols} input features: the last block is zero-padded when cols is not a multiple of 32. */
    static int blocksPerRow(long cols) {
        return (int) ((cols + BLOCK - 1) / BLOCK);
    }

    /** Resident bytes of a quantized {@code [rows, cols]} matrix, scales and padding included. */
    public long bytes(long rows, long cols) {
        if (!quantized()) throw new IllegalStateException(cliName() + " weights take their checkpoint dtype's bytes");
        return rows * blocksPerRow(cols) * (long) (quantBytesPerBlock + scaleBytes);
    }

    /** The name on the command line. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code stored}, {@code copied}, {@code q8} or {@code q4}. */
    public static CpuWeights parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "stored" -> STORED;
            case "copied" -> COPIED;
            case "q8" -> Q8;
            case "q4" -> Q4;
            default -> throw new IllegalArgumentException("CPU weights must be " + NAMES + ", got '" + name + "'");
        };
    }
}
