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
 * Decode-shaped dot products (one row with one token, six rows with four tokens) straight from
 * {@link CpuWeights#Q8} quants: each byte widened to an int, converted to FP32 and multiplied by its block's
 * scale (one FP32 multiply), so the weights are those {@link #decodeSplit} writes for the prefill path; then the order
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
    private static final ValueLayout.OfFloat OUT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

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
     * The row's block scales are copied into {@code scales} ({@code m.blocksPerRow()} floats at least) first, as in
     * {@link #tile6x4}.
     */
    static void chains(QuantizedMatrix m, int r, float[] x, int x0, int vectorEnd, float[] lanes, int chain0, int chain1,
                       float[] scales) {
        MemorySegment q = m.quants(), s = m.scales();
        long q0 = m.quantOffset(r), s0 = m.scaleOffset(r);
        MemorySegment.copy(s, SCALE, s0, scales, 0, m.blocksPerRow());
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int steps = vectorEnd / (4 * L);
        for (int p = 0; p < steps; p++) {  // chunks i, i + L share a block, as do i + 2L, i + 3L
            int i = p * 4 * L;  // offsets linear in the loop counter, so C2 drops the bounds checks
            int h = QuantizedMatrix.stepBlock(p);
            float d = scales[h];
            float e = scales[h + QuantizedMatrix.SECOND_HALF_BLOCK];
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(d).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i + L, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(d).fma(FloatVector.fromArray(F, x, x0 + i + L), a1);
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(e).fma(FloatVector.fromArray(F, x, x0 + i + 2 * L), a0);
            a1 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(e).fma(FloatVector.fromArray(F, x, x0 + i + 3 * L), a1);
        }
        int i = steps * 4 * L;
        if (i < vectorEnd) {
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[i / BLOCK]).fma(FloatVector.fromArray(F, x, x0 + i), a0);
            i += L;
        }
        if (i < vectorEnd) {
            a1 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[i / BLOCK]).fma(FloatVector.fromArray(F, x, x0 + i), a1);
            i += L;
        }
        if (i < vectorEnd) {
            a0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[i / BLOCK]).fma(FloatVector.fromArray(F, x, x0 + i), a0);
        }
        a0.intoArray(lanes, chain0);
        a1.intoArray(lanes, chain1);
    }

    /**
     * Six rows from {@code r} with the four tokens at {@code x0 + t n}: {@code sums[4 row + token]}, each weight widened
     * once. The six rows' block scales are first copied into {@code scales} (at least {@code 6 m.blocksPerRow()} floats)
     * and the passes read them from there: read from the segment, each scale went through a var handle whose profile
     * of segment classes the whole JVM shares, and compile logs of full test-suite runs show C2 leaving those reads as
     * calls in the loop (megamorphic {@code unsafeGetBase} / {@code unsafeGetOffset}, or {@code getIntUnaligned} past the
     * node-count cutoff) with the tile's 28 live vectors around them; the same tile allocated in two of five suite runs
     * (docs/cpu-kernels.md, "What C2 does to Vector API code").
     */
    static void tile6x4(QuantizedMatrix m, int r, float[] x, int x0, int n, int vectorEnd, float[] sums, float[] lanes,
                        int lanesStart, float[] scales) {
        long qa = m.quantOffset(r), qb = m.quantOffset(r + 1), qc = m.quantOffset(r + 2);
        long qd = m.quantOffset(r + 3), qe = m.quantOffset(r + 4), qf = m.quantOffset(r + 5);
        int blocks = m.blocksPerRow();
        MemorySegment q = m.quants(), s = m.scales();
        MemorySegment.copy(s, SCALE, m.scaleOffset(r), scales, 0, 6 * blocks);  // six rows' scales lie one after another
        pass(q, qa, qb, qc, qd, qe, qf, scales, blocks, x, x0, n, 0, vectorEnd / L, lanes, lanesStart);
        pass(q, qa, qb, qc, qd, qe, qf, scales, blocks, x, x0, n, 1, vectorEnd / L, lanes, lanesStart + 24 * L);
        LaneSums.tileSums(lanes, lanesStart, 24, sums);
        for (int k = 0; vectorEnd < n && k < 24; k++) {
            int row = r + k / 4;
            sums[k] = tail(q, m.quantOffset(row), s, m.scaleOffset(row), x, x0 + (k & 3) * n, vectorEnd, n, sums[k]);
        }
    }

    /**
     * As {@code FusedRows.e4m3Pass} on q8 rows: quants at {@code q*}, row j's block scales at {@code scales[j blocks ..]}.
     */
    private static void pass(MemorySegment q, long qa, long qb, long qc, long qd, long qe, long qf, float[] scales,
            int blocks, float[] x, int x0, int n, int chain, int chunks, float[] lanes, int o) {
        int x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        int sb = blocks, sc = 2 * blocks, sd = 3 * blocks, se = 4 * blocks, sf = 5 * blocks;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        FloatVector e0 = a0, e1 = a0, e2 = a0, e3 = a0, f0 = a0, f1 = a0, f2 = a0, f3 = a0;
        for (int k = 0, count = (chunks + 1 - chain) / 2; k < count; k++) {  // offsets linear in k: no bounds checks
            int i = (2 * k + chain) * L;
            int h = QuantizedMatrix.pairBlock(k);  // chunks 2k and 2k + 1 share a block
            FloatVector t0 = FloatVector.fromArray(F, x, x0 + i), t1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + i), t3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qa + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[h]);
            a0 = r.fma(t0, a0); a1 = r.fma(t1, a1); a2 = r.fma(t2, a2); a3 = r.fma(t3, a3);
            r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qb + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[sb + h]);
            b0 = r.fma(t0, b0); b1 = r.fma(t1, b1); b2 = r.fma(t2, b2); b3 = r.fma(t3, b3);
            r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qc + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[sc + h]);
            c0 = r.fma(t0, c0); c1 = r.fma(t1, c1); c2 = r.fma(t2, c2); c3 = r.fma(t3, c3);
            r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qd + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[sd + h]);
            d0 = r.fma(t0, d0); d1 = r.fma(t1, d1); d2 = r.fma(t2, d2); d3 = r.fma(t3, d3);
            r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qe + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[se + h]);
            e0 = r.fma(t0, e0); e1 = r.fma(t1, e1); e2 = r.fma(t2, e2); e3 = r.fma(t3, e3);
            r = ((FloatVector) ByteVector.fromMemorySegment(B, q, qf + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scales[sf + h]);
            f0 = r.fma(t0, f0); f1 = r.fma(t1, f1); f2 = r.fma(t2, f2); f3 = r.fma(t3, f3);
        }
        a0.intoArray(lanes, o); a1.intoArray(lanes, o + L); a2.intoArray(lanes, o + 2 * L); a3.intoArray(lanes, o + 3 * L);
        b0.intoArray(lanes, o + 4 * L); b1.intoArray(lanes, o + 5 * L); b2.intoArray(lanes, o + 6 * L); b3.intoArray(lanes, o + 7 * L);
        c0.intoArray(lanes, o + 8 * L); c1.intoArray(lanes, o + 9 * L); c2.intoArray(lanes, o + 10 * L); c3.intoArray(lanes, o + 11 * L);
        d0.intoArray(lanes, o + 12 * L); d1.intoArray(lanes, o + 13 * L); d2.intoArray(lanes, o + 14 * L); d3.intoArray(lanes, o + 15 * L);
        e0.intoArray(lanes, o + 16 * L); e1.intoArray(lanes, o + 17 * L); e2.intoArray(lanes, o + 18 * L); e3.intoArray(lanes, o + 19 * L);
        f0.intoArray(lanes, o + 20 * L); f1.intoArray(lanes, o + 21 * L); f2.intoArray(lanes, o + 22 * L); f3.intoArray(lanes, o + 23 * L);
    }


    /**
     * Row {@code row}'s weights {@code [0, n)} as FP32 into {@code out} from byte {@code o}, in the split layout of {@link StoredTiles}: the values
     * every kernel multiplies with.
     */
    static void decodeSplit(QuantizedMatrix m, int row, MemorySegment out, long o, int n, int vectorEnd) {
        MemorySegment q = m.quants(), s = m.scales();
        long q0 = m.quantOffset(row), s0 = m.scaleOffset(row);
        int chunks = vectorEnd / L, pairs = chunks / 2, evens = (chunks + 1) / 2;
        for (int k = 0; k < pairs; k++) {  // chunk 2k to place k, chunk 2k + 1 to place evens + k; offsets linear in k
            int i = 2 * k * L;
            float d = s.get(SCALE, s0 + QuantizedMatrix.pairScale(k));  // chunks 2k and 2k + 1 share a block
            ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(d).intoMemorySegment(out, o + 4L * k * L, LE);
            ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i + L, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(d).intoMemorySegment(out, o + 4L * (evens + k) * L, LE);
        }
        if (pairs < evens) {
            int i = 2 * pairs * L;
            ((FloatVector) ByteVector.fromMemorySegment(B, q, q0 + i, LE).convertShape(VectorOperators.B2I, I, 0)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(scale(s, s0, i)).intoMemorySegment(out, o + 4L * pairs * L, LE);
        }
        for (int i = vectorEnd; i < n; i++) out.set(OUT, o + 4L * i, weight(q, q0, s, s0, i));
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
