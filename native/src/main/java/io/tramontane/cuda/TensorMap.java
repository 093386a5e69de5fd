package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * An encoded {@code CUtensorMap}: the 128 opaque bytes cuTensorMapEncodeTiled writes, which a kernel takes by value as
 * a {@code const __grid_constant__ CUtensorMap} parameter ({@link KernelArgs#tensorMap}). Immutable; made by
 * {@link CudaDriver#tensorMapEncodeTiled} from a {@link TiledTensorMap}, which it keeps for inspection.
 */
public final class TensorMap {
    /** sizeof(CUtensorMap): CU_TENSOR_MAP_NUM_QWORDS 64-bit words. */
    public static final int BYTES = 128;
    /** cuda.h declares CUtensorMap alignas(128); the encoder requires at least 64. */
    public static final int ALIGNMENT = 128;

    private final TiledTensorMap spec;
    private final byte[] opaque;

    /** {@code encoded}: the 128 bytes cuTensorMapEncodeTiled wrote (a host emulator may write its own encoding). */
    public TensorMap(TiledTensorMap spec, MemorySegment encoded) {
        if (encoded.byteSize() != BYTES) throw new IllegalArgumentException("a CUtensorMap has " + BYTES + " bytes");
        this.spec = spec;
        this.opaque = encoded.toArray(JAVA_BYTE);
    }

    /** What it was encoded from. */
    public TiledTensorMap spec() {
        return spec;
    }

    /** Copies the 128 bytes to {@code dst} (at least 128 bytes). */
    public void copyTo(MemorySegment dst) {
        MemorySegment.copy(MemorySegment.ofArray(opaque), 0, dst, 0, BYTES);
    }

    /** The first 8 opaque bytes, for tests that follow a map through a launch. */
    public long firstWord() {
        return MemorySegment.ofArray(opaque).get(JAVA_LONG.withByteAlignment(1), 0);
    }
}
