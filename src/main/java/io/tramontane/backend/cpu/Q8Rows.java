package io.tramontane.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-shaped dot products (one row with one token, four rows with four tokens) straight from
 * {@link CpuWeights#Q8} quants: each byte widened to an int, converted to FP32 and multiplied by its block's
 * scale (one FP32 multiply), so the weights are those {@link #decode} writes for the prefill path; then the order
 * of {@link DotKernels} (chunk j into accumulator j % 2, ...), so both paths give identical bits (batch
 * invariance). Loads are written out in Vector API calls, as in {@link FusedRows}: C2 boxes vectors handed
 * to helpers it does not inline.
 */
final class Q8Rows {
    private static final VectorSpecies<Float> F = DotKernels.F;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat SCALE = QuantizedMatrix.SCALE;
    private static final int BLOCK = CpuWeights.BLOCK;

    private Q8Rows() {}

    /** The scale of the block holding feature {@code i} of the row whose scales start at {@code row}. */
    private static float scale(MemorySegment s, long row, int i) {
        return s.get(SCALE, row + (long) (i / BLOCK) * Float.BYTES);
    }

    /** The scalar tail {@code [from, n)} of row {@code r} with the token at {@code x0}, added to its lane sum. */
    static float rowTail(QuantizedMatrix m, int r, float[] x, int x0, int from, int n, float sum) {
        return tail(m.quants(), m.quantOffset(r), m.scales(), m.scaleOffset(r), x, x0, from, n, sum);
    }

    /**
     * Row {@code r} with the token at {@code x0}, columns {@code [0, vectorEnd)} (order: see {@link DotKernels}): its two
     * chains into {@code lanes} at {@code chain0} and {@code chain1}, for {@link LaneSums}; {@link #rowTail} adds the rest.
     */
    static void chains(QuantizedMatrix m, int r, float[] x, int x0, int vectorEnd, float[] lanes, int chain0, int chain1) {
        MemorySegment q = m.quants(), s = m.scales();
        long q0 = m.quantOffset(r), s0 = m.scaleOffset(r);
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int steps = vectorEnd / (4 * L);
        for (int p = 0; p < steps; p++) {  // chunks i, i + L share a block, as do i + 2L, i + 3L
            int i = p * 4 * L;  // offsets linear in the loop counter, so C2 drops the bounds checks
            long h = s0 + QuantizedMatrix.stepScale(p);
            float d = s.get(SCALE, h);
            float e = s.get(SCALE, h + QuantizedMatrix.SECOND_HALF_STEP);
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(d).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i + L, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(d).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(e).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a0);
            a1 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(e).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a1);
        }
        int i = steps * 4 * L;
        if (i < vectorEnd) {
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(scale(s, s0, i)).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(scale(s, s0, i)).fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) {
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(scale(s, s0, i)).fma(FloatVector.fromArray(F, x, x0 + i), a0);
        }
        a0.intoArray(lanes, chain0);
        a1.intoArray(lanes, chain1);
    }
    /** Four rows from {@code r} with four tokens at {@code x0 + t * n}: {@code sums[4 * row + token]}, each weight widened once. */
    static void tile4x4(QuantizedMatrix m, int r, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes) {
        long q0 = m.quantOffset(r), q1 = m.quantOffset(r + 1), q2 = m.quantOffset(r + 2), q3 = m.quantOffset(r + 3);
        long s0 = m.scaleOffset(r), s1 = m.scaleOffset(r + 1), s2 = m.scaleOffset(r + 2), s3 = m.scaleOffset(r + 3);
        MemorySegment q = m.quants(), s = m.scales();
        half(q, s, q0, q1, s0, s1, x, x0, n, vectorEnd, 0, lanes);
        half(q, s, q2, q3, s2, s3, x, x0, n, vectorEnd, 1, lanes);
        LaneSums.sums16(lanes, sums);
        for (int k = 0; vectorEnd < n && k < 16; k++) {
            int i = k / 4;
            sums[k] = tail(m.quants(), i == 0 ? q0 : i == 1 ? q1 : i == 2 ? q2 : q3, m.scales(),
                    i == 0 ? s0 : i == 1 ? s1 : i == 2 ? s2 : s3, x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /**
     * Rows 2 half and 2 half + 1 (at {@code wa}, {@code wb}) with the four tokens at {@code x0 + t * n}, in one pass:
     * chunk j into chain j % 2, each weight widened once; chain c of accumulator 4 r + t into {@code lanes[(16 c + 8 half
     * + 4 r + t) L ..]}.
     */
    private static void half(MemorySegment q, MemorySegment s, long qa, long qb, long sa, long sb, float[] x, int x0, int n,
                             int vectorEnd, int half, float[] lanes) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
        int pairs = vectorEnd / (2 * L);
        for (int k = 0; k < pairs; k++) {  // offsets linear in the loop counter, so C2 drops the bounds checks
            int i = k * 2 * L;
            long h = QuantizedMatrix.pairScale(k);  // chunks i and i + L share a block
            float da = s.get(SCALE, sa + h), db = s.get(SCALE, sb + h);
            {
                FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
                FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
                FloatVector r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qa + i, LE).convertShape(VectorOperators.B2I, I, 0)
                        .convert(VectorOperators.I2F, 0)).mul(da);
                a00 = r.fma(t0, a00);
                a10 = r.fma(t1, a10);
                a20 = r.fma(t2, a20);
                a30 = r.fma(t3, a30);
                r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qb + i, LE).convertShape(VectorOperators.B2I, I, 0)
                        .convert(VectorOperators.I2F, 0)).mul(db);
                b00 = r.fma(t0, b00);
                b10 = r.fma(t1, b10);
                b20 = r.fma(t2, b20);
                b30 = r.fma(t3, b30);
            }
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i + L), t1 = FloatVector.fromArray(F, x, x1 + i + L);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i + L), t3 = FloatVector.fromArray(F, x, x3 + i + L);
            FloatVector r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qa + i + L, LE).convertShape(VectorOperators.B2I, I, 0)
                        .convert(VectorOperators.I2F, 0)).mul(da);
            a01 = r.fma(t0, a01);
            a11 = r.fma(t1, a11);
            a21 = r.fma(t2, a21);
            a31 = r.fma(t3, a31);
            r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qb + i + L, LE).convertShape(VectorOperators.B2I, I, 0)
                        .convert(VectorOperators.I2F, 0)).mul(db);
            b01 = r.fma(t0, b01);
            b11 = r.fma(t1, b11);
            b21 = r.fma(t2, b21);
            b31 = r.fma(t3, b31);
        }
        if (pairs * 2 * L < vectorEnd) {  // a last, odd chunk: chain 0
            int k = pairs, i = k * 2 * L;
            long h = QuantizedMatrix.pairScale(k);  // chunks i and i + L share a block
            float da = s.get(SCALE, sa + h), db = s.get(SCALE, sb + h);
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qa + i, LE).convertShape(VectorOperators.B2I, I, 0)
                        .convert(VectorOperators.I2F, 0)).mul(da);
            a00 = r.fma(t0, a00);
            a10 = r.fma(t1, a10);
            a20 = r.fma(t2, a20);
            a30 = r.fma(t3, a30);
            r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qb + i, LE).convertShape(VectorOperators.B2I, I, 0)
                        .convert(VectorOperators.I2F, 0)).mul(db);
            b00 = r.fma(t0, b00);
            b10 = r.fma(t1, b10);
            b20 = r.fma(t2, b20);
            b30 = r.fma(t3, b30);
        }
        int o = 8 * half * L;  // accumulator 4 r + t of rows 2 half + r; chain 1 sixteen vectors further
        a00.intoArray(lanes, o);
        a01.intoArray(lanes, o + 16 * L);
        a10.intoArray(lanes, o + 1 * L);
        a11.intoArray(lanes, o + 17 * L);
        a20.intoArray(lanes, o + 2 * L);
        a21.intoArray(lanes, o + 18 * L);
        a30.intoArray(lanes, o + 3 * L);
        a31.intoArray(lanes, o + 19 * L);
        b00.intoArray(lanes, o + 4 * L);
        b01.intoArray(lanes, o + 20 * L);
        b10.intoArray(lanes, o + 5 * L);
        b11.intoArray(lanes, o + 21 * L);
        b20.intoArray(lanes, o + 6 * L);
        b21.intoArray(lanes, o + 22 * L);
        b30.intoArray(lanes, o + 7 * L);
        b31.intoArray(lanes, o + 23 * L);
    }
    /** Row {@code row}'s weights {@code [0, n)} into {@code out[o ...]}: the values every kernel multiplies with. */
    static void decode(QuantizedMatrix m, int row, float[] out, int o, int n, int vectorEnd) {
        MemorySegment q = m.quants(), s = m.scales();
        long q0 = m.quantOffset(row), s0 = m.scaleOffset(row);
        for (int i = 0; i < vectorEnd; i += L) {
            ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convert(VectorOperators.I2F, 0)).mul(scale(s, s0, i)).intoArray(out, o + i);
        }
        for (int i = vectorEnd; i < n; i++) out[o + i] = weight(q, q0, s, s0, i);
    }

    private static float weight(MemorySegment q, long q0, MemorySegment s, long s0, int i) {
        return q.get(ValueLayout.JAVA_BYTE, q0 + i) * scale(s, s0, i);
    }

    /** Adds the scalar tail {@code [from, n)} of one row and token to a lane sum, as {@link DotKernels} does. */
    private static float tail(MemorySegment q, long q0, MemorySegment s, long s0, float[] x, int x0, int from, int n,
                              float sum) {
        for (int i = from; i < n; i++) sum += weight(q, q0, s, s0, i) * x[x0 + i];
        return sum;
    }
}
