package io.tramontane.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A read-only view of tensor data in memory, usually a slice of an mmap'd safetensors file. Every
 * tensor is seen as a matrix of {@code rows x cols} elements (the last dimension is {@code cols}; a
 * vector is one row, a scalar one element). Views for tensor parallelism and for the q/k RoPE layout
 * conversion select rows, columns or a row permutation without copying.
 */
public final class Tensor {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;  // the whole underlying tensor, row-major
    private final long rowStride;      // elements between consecutive rows of `data`
    private final long colOffset;      // first column of this view
    private final int[] rowMap;        // view row -> underlying row; null = identity from rowOffset
    private final long rowOffset;

    private Tensor(String name, DType dtype, long[] shape, MemorySegment data, long rowStride, long colOffset,
                   int[] rowMap, long rowOffset) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
        this.rowStride = rowStride;
        this.colOffset = colOffset;
        this.rowMap = rowMap;
        this.rowOffset = rowOffset;
    }

    /** A tensor over {@code data}, which must hold exactly {@code product(shape)} elements. */
    public static Tensor of(String name, DType dtype, long[] shape, MemorySegment data) {
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
            elements = Math.multiplyExact(elements, d);
        }
        long bytes = Math.multiplyExact(elements, dtype.bits()) / 8;
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException(name + ": " + dtype + Arrays.toString(shape) + " needs " + bytes
                    + " bytes, the data has " + data.byteSize());
        }
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        return new Tensor(name, dtype, shape.clone(), data, cols, 0, null, 0);
    }

    /** An F32 tensor on the Java heap (tests, small generated models). */
    public static Tensor ofFloats(String name, long[] shape, float[] values) {
        MemorySegment segment = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, segment, FLOAT, 0, values.length);
        return of(name, DType.F32, shape, segment);
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis];
    }

    public long cols() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    public long rows() {
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) rows *= shape[i];
        return rows;
    }

    public long elementCount() {
        return rows() * cols();
    }

    /** True when the view is the whole row-major tensor, so {@link #contiguousData()} may be used. */
    public boolean isContiguous() {
        return rowMap == null && rowOffset == 0 && colOffset == 0 && rowStride == cols()
                && data.byteSize() == elementCount() * dtype.bits() / 8;
    }

    /** The raw bytes of a contiguous tensor. */
    public MemorySegment contiguousData() {
        if (!isContiguous()) throw new IllegalStateException(name + " is a strided or permuted view");
        return data;
    }

    private long sourceRow(long row) {
        if (row < 0 || row >= rows()) throw new IndexOutOfBoundsException(name + ": row " + row + " of " + rows());
        return rowMap != null ? rowMap[(int) row] : rowOffset + row;
    }

    private long byteOffset(long row, long col) {
        return (sourceRow(row) * rowStride + colOffset + col) * dtype.bits() / 8;
    }

    /** The memory every row of this view lies in (kernels address rows with {@link #rowByteOffset}). */
    public MemorySegment storage() {
        return data;
    }

    /** Byte offset of row {@code row} of the view within {@link #storage()}. */
    public long rowByteOffset(long row) {
        return byteOffset(row, 0);
    }

    /** The raw bytes of one row of the view ({@code cols * bytes} of them). */
    public MemorySegment rowBytes(long row) {
        return data.asSlice(byteOffset(row, 0), cols() * dtype.bits() / 8);
    }

    /** Element {@code (row, col)} decoded to float (exact for every float dtype but F64). */
    public float get(long row, long col) {
        if (col < 0 || col >= cols()) throw new IndexOutOfBoundsException(name + ": column " + col + " of " + cols());
        long offset = byteOffset(row, col);
        return switch (dtype) {
            case F32 -> data.get(FLOAT, offset);
            case BF16 -> Floats.bf16ToFloat(data.get(SHORT, offset));
            case F16 -> Floats.f16ToFloat(data.get(SHORT, offset));
            case F8_E4M3 -> Floats.e4m3ToFloat(data.get(ValueLayout.JAVA_BYTE, offset));
            case F8_E5M2 -> Floats.e5m2ToFloat(data.get(ValueLayout.JAVA_BYTE, offset));
            case F64 -> (float) data.get(DOUBLE, offset);
            case I64 -> data.get(LONG, offset);
            case I32 -> data.get(INT, offset);
            case I16 -> data.get(SHORT, offset);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, offset);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
        };
    }

    /** Element {@code i} of a tensor with one row (vectors, scalars). */
    public float get(long i) {
        return get(0, i);
    }

    /** The single value of a one-element tensor (shape {@code []}, {@code [1]}, {@code [1,1]}). */
    public float scalar() {
        if (elementCount() != 1) {
            throw new IllegalArgumentException(name + ": expected one element, shape is " + Arrays.toString(shape));
        }
        return get(0, 0);
    }

    /** Decodes row {@code row} into {@code dst[offset .. offset + cols)}. */
    public void readRow(long row, float[] dst, int offset) {
        long n = cols();
        for (long c = 0; c < n; c++) dst[offset + (int) c] = get(row, c);
    }

    /** All elements, decoded, row-major (small tensors and tests). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(elementCount())];
        for (long r = 0, n = rows(); r < n; r++) readRow(r, out, (int) (r * cols()));
        return out;
    }

    /** Rows {@code [from, to)} as a 2-D view (a tensor-parallel shard of output features). */
    public Tensor rowRange(long from, long to) {
        if (from < 0 || to > rows() || from > to) {
            throw new IndexOutOfBoundsException(name + ": rows [" + from + ", " + to + ") of " + rows());
        }
        int[] map = rowMap == null ? null : Arrays.copyOfRange(rowMap, (int) from, (int) to);
        return new Tensor(name, dtype, new long[] {to - from, cols()}, data, rowStride, colOffset, map,
                rowMap == null ? rowOffset + from : 0);
    }

    /** Columns {@code [from, to)} of every row (a tensor-parallel shard of input features). */
    public Tensor columnRange(long from, long to) {
        if (from < 0 || to > cols() || from > to) {
            throw new IndexOutOfBoundsException(name + ": columns [" + from + ", " + to + ") of " + cols());
        }
        return new Tensor(name, dtype, new long[] {rows(), to - from}, data, rowStride, colOffset + from, rowMap,
                rowOffset);
    }

    /** The view whose row {@code i} is this view's row {@code order[i]}. */
    public Tensor permuteRows(int[] order) {
        if (order.length != rows()) {
            throw new IllegalArgumentException(name + ": permutation of " + order.length + " rows for " + rows());
        }
        int[] map = new int[order.length];
        for (int i = 0; i < order.length; i++) map[i] = (int) sourceRow(order[i]);
        return new Tensor(name, dtype, new long[] {rows(), cols()}, data, rowStride, colOffset, map, 0);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
