package io.tramontane.backend.cuda;

import io.tramontane.weights.DType;
import io.tramontane.weights.Floats;
import io.tramontane.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Random inputs of the GPU checks: activations and weights in each stored dtype, uniform in [-scale, scale). */
final class RandomTensors {
    private RandomTensors() {}

    static float[] floats(SplittableRandom random, int count, double scale) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float) random.nextDouble(-scale, scale);
        return values;
    }

    /** A [rows, cols] tensor of {@code dtype} (F32, BF16 or F8_E4M3) on the heap, as a checkpoint would map it. */
    static Tensor tensor(String name, DType dtype, int rows, int cols, SplittableRandom random, double scale) {
        float[] values = floats(random, rows * cols, scale);
        MemorySegment data = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, dtype.bytes())]);
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> data.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, values[i]);
                case BF16 -> data.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i,
                        Floats.floatToBf16(values[i]));
                case F8_E4M3 -> data.set(ValueLayout.JAVA_BYTE, i, Floats.floatToE4m3(values[i]));
                default -> throw new IllegalArgumentException("no random " + dtype);
            }
        }
        long[] shape = rows == 1 ? new long[] {cols} : new long[] {rows, cols};
        return Tensor.of(name, dtype, shape, data);
    }
}
