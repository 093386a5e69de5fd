package io.tramontane.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-shaped dot products (one row with one token, four rows with four tokens) straight from
 * {@link CpuWeights#Q4} nibbles: one load of L bytes, widened to ints, holds two chunks
 * ({@link QuantizedMatrix#Q4_PAIR}); the low nibbles are sign-extended by a shift pair, the high ones by one
 * arithmetic shift, converted to FP32 and multiplied by the block's scale (one FP32 multiply), so the weights
 * are those {@link #decode} writes for the prefill path; then the order of {@link DotKernels} (chunk j into
 * accumulator j % 4, ...), so both paths give identical bits (batch invariance). Loads are written out in Vector
 * API calls, as in {@link FusedRows}: C2 boxes vectors handed to helpers it does not inline.
 */
final class Q4Rows {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat SCALE = QuantizedMatrix.SCALE;
    private static final int BLOCK = CpuWeights.BLOCK;

    private Q4Rows() {}

    /** The scale of the block holding feature {@code i} of the row whose scales start at {@code row}. */
    private static float scale(MemorySegment s, long row, int i) {
        return s.get(SCALE, row + (long) (i / BLOCK) * CpuWeights.SCALE_BYTES);
    }

    /** The dot of row {@code r} with the token at {@code x0} (order: see {@link DotKernels}). */
    static float row(QuantizedMatrix m, int r, float[] x, int x0, int n, int vectorEnd, float[] lanes) {
        MemorySegment q = m.quants(), s = m.scales();
        long q0 = m.quantOffset(r), s0 = m.scaleOffset(r);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int steps = vectorEnd / (4 * L);
        for (int p = 0; p < steps; p++) {  // bytes [i/2, i/2 + L) hold chunks i and i + L, the next L the other two
            int i = p * 4 * L;  // offsets linear in the loop counter, so C2 drops the bounds checks
            long h = s0 + QuantizedMatrix.stepScale(p);
            float d = s.get(SCALE, h);
            float e = s.get(SCALE, h + QuantizedMatrix.SECOND_HALF_STEP);
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B, q, q0 + i / 2, LE)
                    .convertShape(VectorOperators.B2I, I, 0);
            IntVector u = (IntVector) ByteVector.fromMemorySegment(B, q, q0 + i / 2 + L, LE)
                    .convertShape(VectorOperators.B2I, I, 0);
            a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(d).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0))
                    .mul(d).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a2 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(e).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a2);
            a3 = ((FloatVector) u.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0))
                    .mul(e).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a3);
        }
        int i = steps * 4 * L;
        if (i < vectorEnd) {  // chunks left: i (low nibbles), i + L (high ones, same bytes), i + 2L (low, next bytes)
            float d = scale(s, s0, i);
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B, q, q0 + i / 2, LE)
                    .convertShape(VectorOperators.B2I, I, 0);
            a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(d).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            if (i + L < vectorEnd) {
                a1 = ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0))
                        .mul(d).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            }
            if (i + 2 * L < vectorEnd) {
                float e = scale(s, s0, i + 2 * L);
                IntVector u = (IntVector) ByteVector.fromMemorySegment(B, q, q0 + i / 2 + L, LE)
                        .convertShape(VectorOperators.B2I, I, 0);
                a2 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                        .convert(VectorOperators.I2F, 0)).mul(e).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a2);
            }
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        return tail(q, q0, s, s0, x, x0, vectorEnd, n, LaneSums.sum1(lanes));
    }
    /** Four rows from {@code r} with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void tile4x4(QuantizedMatrix m, int r, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes) {
        long q0 = m.quantOffset(r), q1 = m.quantOffset(r + 1), q2 = m.quantOffset(r + 2), q3 = m.quantOffset(r + 3);
        long s0 = m.scaleOffset(r), s1 = m.scaleOffset(r + 1), s2 = m.scaleOffset(r + 2), s3 = m.scaleOffset(r + 3);
        for (int pass = 0; pass < 4; pass++) pass4x4(m, q0, q1, q2, q3, s0, s1, s2, s3, x, x0, n, vectorEnd, pass, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            int i = k / 4;
            sums[k] = tail(m.quants(), i == 0 ? q0 : i == 1 ? q1 : i == 2 ? q2 : q3, m.scales(),
                    i == 0 ? s0 : i == 1 ? s1 : i == 2 ? s2 : s3, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /** Pass {@code pass} of {@link #tile4x4}: the chunks j with j % 4 == pass, partials into {@code lanes[16 pass L ..]}. */
    private static void pass4x4(QuantizedMatrix m, long q0, long q1, long q2, long q3, long s0, long s1, long s2, long s3,
                                float[] x, int x0, int n, int vectorEnd, int pass, float[] lanes) {
        MemorySegment q = m.quants(), s = m.scales();
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int shift = pass % 2 == 0 ? 28 : 24;  // low nibbles for even chunks, high ones for odd (then both >> 28)
        int steps = (vectorEnd - pass * L + 4 * L - 1) / (4 * L);
        for (int k = 0; k < steps; k++) {  // offsets linear in the loop counter, so C2 drops the bounds checks
            int i = pass * L + k * 4 * L;
            long b = pass / 2 * L + k * 2 * L;  // the bytes of chunk pair i / 2L
            long h = QuantizedMatrix.passStepScale(pass, k);
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector w = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, q, q0 + b, LE)
                    .convertShape(VectorOperators.B2I, I, 0)).lanewise(VectorOperators.LSHL, shift)
                    .lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0))
                    .mul(s.get(SCALE, s0 + h));
            c00 = w.fma(t0, c00);
            c01 = w.fma(t1, c01);
            c02 = w.fma(t2, c02);
            c03 = w.fma(t3, c03);
            w = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, q, q1 + b, LE)
                    .convertShape(VectorOperators.B2I, I, 0)).lanewise(VectorOperators.LSHL, shift)
                    .lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0))
                    .mul(s.get(SCALE, s1 + h));
            c10 = w.fma(t0, c10);
            c11 = w.fma(t1, c11);
            c12 = w.fma(t2, c12);
            c13 = w.fma(t3, c13);
            w = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, q, q2 + b, LE)
                    .convertShape(VectorOperators.B2I, I, 0)).lanewise(VectorOperators.LSHL, shift)
                    .lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0))
                    .mul(s.get(SCALE, s2 + h));
            c20 = w.fma(t0, c20);
            c21 = w.fma(t1, c21);
            c22 = w.fma(t2, c22);
            c23 = w.fma(t3, c23);
            w = ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(B, q, q3 + b, LE)
                    .convertShape(VectorOperators.B2I, I, 0)).lanewise(VectorOperators.LSHL, shift)
                    .lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0))
                    .mul(s.get(SCALE, s3 + h));
            c30 = w.fma(t0, c30);
            c31 = w.fma(t1, c31);
            c32 = w.fma(t2, c32);
            c33 = w.fma(t3, c33);
        }
        int o = 16 * pass * L;
        c00.intoArray(lanes, o);
        c01.intoArray(lanes, o + L);
        c02.intoArray(lanes, o + 2 * L);
        c03.intoArray(lanes, o + 3 * L);
        c10.intoArray(lanes, o + 4 * L);
        c11.intoArray(lanes, o + 5 * L);
        c12.intoArray(lanes, o + 6 * L);
        c13.intoArray(lanes, o + 7 * L);
        c20.intoArray(lanes, o + 8 * L);
        c21.intoArray(lanes, o + 9 * L);
        c22.intoArray(lanes, o + 10 * L);
        c23.intoArray(lanes, o + 11 * L);
        c30.intoArray(lanes, o + 12 * L);
        c31.intoArray(lanes, o + 13 * L);
        c32.intoArray(lanes, o + 14 * L);
        c33.intoArray(lanes, o + 15 * L);
    }
    /** Row {@code row}'s weights {@code [0, n)} into {@code out[o ...]}: the values every kernel multiplies with. */
    static void decode(QuantizedMatrix m, int row, float[] out, int o, int n, int vectorEnd) {
        MemorySegment q = m.quants(), s = m.scales();
        long q0 = m.quantOffset(row), s0 = m.scaleOffset(row);
        for (int i = 0; i < vectorEnd; i += L) {  // chunk i: the low nibbles of its pair's bytes if even, else the high ones
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B, q, q0 + i / (2 * L) * L, LE)
                    .convertShape(VectorOperators.B2I, I, 0);
            ((FloatVector) v.lanewise(VectorOperators.LSHL, i / L % 2 == 0 ? 28 : 24).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(scale(s, s0, i)).intoArray(out, o + i);
        }
        for (int i = vectorEnd; i < n; i++) out[o + i] = weight(q, q0, s, s0, i);
    }

    private static float weight(MemorySegment q, long q0, MemorySegment s, long s0, int i) {
        int w = i % BLOCK;
        int b = q.get(ValueLayout.JAVA_BYTE, q0 + (long) (i / BLOCK) * (BLOCK / 2) + QuantizedMatrix.q4Byte(w));
        return (QuantizedMatrix.q4High(w) ? b >> 4 : b << 28 >> 28) * scale(s, s0, i);
    }

    /** Adds the scalar tail {@code [from, n)} of one row and token to a lane sum, as {@link DotKernels} does. */
    private static float tail(MemorySegment q, long q0, MemorySegment s, long s0, float[] x, int x0, int from, int n,
                              float sum) {
        for (int i = from; i < n; i++) sum += weight(q, q0, s, s0, i) * x[x0 + i];
        return sum;
    }
}
