package io.tramontane.backend.cpu;

import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Decodes one weight row of any float dtype into FP32 (exactly; FP8 through its 256-entry table). */
final class RowDecoder {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RowDecoder() {}

    static void decode(Tensor tensor, long row, float[] dst) {
        MemorySegment bytes = tensor.rowBytes(row);
        int n = (int) tensor.cols();
        switch (tensor.dtype()) {
            case F32 -> MemorySegment.copy(bytes, F32, 0, dst, 0, n);
            case BF16 -> {
                for (int i = 0; i < n; i++) dst[i] = Floats.bf16ToFloat(bytes.getAtIndex(I16, i));
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst[i] = Floats.f16ToFloat(bytes.getAtIndex(I16, i));
            }
            case F8_E4M3 -> {
                for (int i = 0; i < n; i++) dst[i] = Floats.e4m3ToFloat(bytes.get(ValueLayout.JAVA_BYTE, i));
            }
            default -> tensor.readRow(row, dst, 0);
        }
    }
}
