package io.tramontane.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of one stored weight row with the activation rows of up to four tokens, decoding the
 * weights inside the loop (no dequantized copies). The weight chunk is loaded once for all the tokens
 * of a call, so a batch reads each weight byte once per step.
 *
 * <p>Batch invariance: every token's sum is the same sequence of operations whatever the batch size
 * and whichever of the 1- or 4-token paths computes it (two lane-wise accumulators over 2-vector
 * chunks, one vector remainder, lanes summed in a fixed order, a scalar tail), so a request yields
 * identical logits alone or in any batch, before or after the JIT compiles the kernel.
 */
final class DotKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** e4m3 magnitude bits shifted into an FP32's exponent/mantissa, rebased from bias 7 to bias 127. */
    private static final float E4M3_REBASE = 0x1p120f;

    private DotKernels() {}

    /** Which stored element type a row holds. */
    enum Format { F32, BF16, E4M3 }

    /** Weight elements {@code [i, i + L)} of the row at {@code base} as floats. */
    private static FloatVector load(Format format, MemorySegment w, long base, int i) {
        return switch (format) {
            case F32 -> FloatVector.fromMemorySegment(F, w, base + 4L * i, LE);
            case BF16 -> ((IntVector) ShortVector.fromMemorySegment(S, w, base + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            case E4M3 -> {
                IntVector b = (IntVector) ByteVector.fromMemorySegment(B, w, base + i, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector bits = b.and(0x7F).lanewise(VectorOperators.LSHL, 20)
                        .or(b.and(0x80).lanewise(VectorOperators.LSHL, 24));
                yield bits.reinterpretAsFloats().mul(E4M3_REBASE);
            }
        };
    }

    private static float scalar(Format format, MemorySegment w, long base, int i) {
        return switch (format) {
            case F32 -> w.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE), base + 4L * i);
            case BF16 -> io.tramontane.weights.Floats.bf16ToFloat(
                    w.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE), base + 2L * i));
            case E4M3 -> io.tramontane.weights.Floats.e4m3ToFloat(w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + i));
        };
    }

    /** {@code out[o] = scale * dot(row, x[t])} for the token whose activations start at {@code x0}. */
    static float dot1(Format format, MemorySegment w, long base, float[] x, int x0, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - n % (2 * L); i < bound; i += 2 * L) {
            FloatVector w0 = load(format, w, base, i), w1 = load(format, w, base, i + L);
            a0 = w0.fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = w1.fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
        }
        FloatVector s = a0.add(a1);
        for (int bound = n - n % L; i < bound; i += L) s = load(format, w, base, i).fma(FloatVector.fromArray(F, x, x0 + i), s);
        float sum = VectorMath.sumLanes(s);
        for (; i < n; i++) sum += scalar(format, w, base, i) * x[x0 + i];
        return sum;
    }

    /** The same sums as four {@link #dot1} calls, with each weight chunk loaded once. */
    static void dot4(Format format, MemorySegment w, long base, float[] x, int x0, int x1, int x2, int x3, int n,
                     float[] sums) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        int i = 0;
        for (int bound = n - n % (2 * L); i < bound; i += 2 * L) {
            FloatVector w0 = load(format, w, base, i), w1 = load(format, w, base, i + L);
            a00 = w0.fma(FloatVector.fromArray(F, x, x0 + i), a00);
            a01 = w1.fma(FloatVector.fromArray(F, x, x0 + i + L), a01);
            a10 = w0.fma(FloatVector.fromArray(F, x, x1 + i), a10);
            a11 = w1.fma(FloatVector.fromArray(F, x, x1 + i + L), a11);
            a20 = w0.fma(FloatVector.fromArray(F, x, x2 + i), a20);
            a21 = w1.fma(FloatVector.fromArray(F, x, x2 + i + L), a21);
            a30 = w0.fma(FloatVector.fromArray(F, x, x3 + i), a30);
            a31 = w1.fma(FloatVector.fromArray(F, x, x3 + i + L), a31);
        }
        FloatVector s0 = a00.add(a01), s1 = a10.add(a11), s2 = a20.add(a21), s3 = a30.add(a31);
        for (int bound = n - n % L; i < bound; i += L) {
            FloatVector w0 = load(format, w, base, i);
            s0 = w0.fma(FloatVector.fromArray(F, x, x0 + i), s0);
            s1 = w0.fma(FloatVector.fromArray(F, x, x1 + i), s1);
            s2 = w0.fma(FloatVector.fromArray(F, x, x2 + i), s2);
            s3 = w0.fma(FloatVector.fromArray(F, x, x3 + i), s3);
        }
        float r0 = VectorMath.sumLanes(s0), r1 = VectorMath.sumLanes(s1);
        float r2 = VectorMath.sumLanes(s2), r3 = VectorMath.sumLanes(s3);
        for (; i < n; i++) {
            float wi = scalar(format, w, base, i);
            r0 += wi * x[x0 + i];
            r1 += wi * x[x1 + i];
            r2 += wi * x[x2 + i];
            r3 += wi * x[x3 + i];
        }
        sums[0] = r0;
        sums[1] = r1;
        sums[2] = r2;
        sums[3] = r3;
    }
}
