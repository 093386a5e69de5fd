package io.tramontane.cuda;

import java.util.Arrays;

/**
 * The parameters of cuTensorMapEncodeTiled for a dense tensor read by TMA in boxes: element type, global address,
 * extents (innermost first), byte strides of the outer dimensions, box extents, shared-memory swizzle and L2
 * promotion. Element strides are all 1, interleave is none and out-of-bounds elements read as zero. The constructor
 * checks the constraints cuda.h documents for this function, so a bad map fails here naming the parameter instead of
 * as CUDA_ERROR_INVALID_VALUE.
 *
 * @param globalDims    elements per dimension, innermost first (1..2^32 each)
 * @param globalStrides bytes between consecutive indices of dimensions 1..rank-1 (multiples of 16, below 2^40)
 * @param box           elements per box dimension (1..256); box[0] * element bytes a multiple of 16 and within the swizzle span
 */
public record TiledTensorMap(DataType type, long address, long[] globalDims, long[] globalStrides, int[] box,
                             Swizzle swizzle, L2Promotion l2Promotion) {

    /** CUtensorMapDataType values Tramontane uses (FP8 travels as UINT8: TMA only moves bytes). */
    public enum DataType {
        UINT8(0, 1), FLOAT32(7, 4), BFLOAT16(9, 2);

        public final int value, bytes;

        DataType(int value, int bytes) {
            this.value = value;
            this.bytes = bytes;
        }
    }

    /** CUtensorMapSwizzle: 16-byte chunks permuted within spans of 32, 64 or 128 bytes. */
    public enum Swizzle {
        NONE(0, 0), B32(1, 32), B64(2, 64), B128(3, 128);

        public final int value, spanBytes;

        Swizzle(int value, int spanBytes) {
            this.value = value;
            this.spanBytes = spanBytes;
        }
    }

    /** CUtensorMapL2promotion. */
    public enum L2Promotion {
        NONE(0), L2_64B(1), L2_128B(2), L2_256B(3);

        public final int value;

        L2Promotion(int value) {
            this.value = value;
        }
    }

    public static final int MAX_RANK = 5, MAX_BOX = 256;

    public TiledTensorMap {
        globalDims = globalDims.clone();
        globalStrides = globalStrides.clone();
        box = box.clone();
        int rank = globalDims.length;
        if (rank < 1 || rank > MAX_RANK) throw new IllegalArgumentException("tensor map rank must be 1.." + MAX_RANK + ": " + rank);
        if (globalStrides.length != rank - 1 || box.length != rank) {
            throw new IllegalArgumentException("a rank-" + rank + " tensor map needs " + (rank - 1) + " strides and " + rank
                    + " box extents, got " + globalStrides.length + " and " + box.length);
        }
        if (address == 0 || address % 16 != 0) {
            throw new IllegalArgumentException(
                    "tensor map global address must be non-null and 16-byte aligned: 0x" + Long.toHexString(address));
        }
        for (long d : globalDims) {
            if (d < 1 || d > 1L << 32) throw new IllegalArgumentException("tensor map globalDim must be in 1..2^32: " + d);
        }
        for (int i = 0; i < globalStrides.length; i++) {
            long s = globalStrides[i];
            if (s % 16 != 0 || s <= 0 || s >= 1L << 40) {
                throw new IllegalArgumentException("tensor map globalStride must be a positive multiple of 16 below 2^40: " + s);
            }
            long inner = i == 0 ? globalDims[0] * type.bytes : globalStrides[i - 1] * globalDims[i];
            if (s < inner) {
                throw new IllegalArgumentException("tensor map globalStride[" + i + "] " + s + " is shorter than the " + inner
                        + " bytes it must step over");
            }
        }
        for (int b : box) {
            if (b < 1 || b > MAX_BOX) throw new IllegalArgumentException("tensor map boxDim must be in 1.." + MAX_BOX + ": " + b);
        }
        long innerBytes = (long) box[0] * type.bytes;
        if (innerBytes % 16 != 0) {
            throw new IllegalArgumentException("tensor map box row of " + innerBytes + " bytes is not a multiple of 16");
        }
        if (swizzle != Swizzle.NONE && innerBytes > swizzle.spanBytes) {
            throw new IllegalArgumentException("tensor map box row of " + innerBytes + " bytes exceeds the " + swizzle.spanBytes
                    + "-byte swizzle span");
        }
    }

    /** A row-major matrix [rows, cols] whose rows are {@code rowBytes} apart, read in boxes of boxRows x boxCols. */
    public static TiledTensorMap matrix(DataType type, DeviceBuffer data, long rows, long cols, long rowBytes, int boxRows,
                                        int boxCols, Swizzle swizzle, L2Promotion l2Promotion) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("tensor map matrix shape must be positive: " + rows + "x" + cols);
        long needed = Math.addExact(Math.multiplyExact(rows - 1, rowBytes), Math.multiplyExact(cols, (long) type.bytes));
        if (data.bytes() < needed) {
            throw new IllegalArgumentException("tensor map over a " + data.bytes() + "-byte buffer, expected at least " + needed
                    + " for [" + rows + ", " + cols + "] with " + rowBytes + "-byte rows");
        }
        return new TiledTensorMap(type, data.address(), new long[] {cols, rows}, new long[] {rowBytes},
                new int[] {boxCols, boxRows}, swizzle, l2Promotion);
    }

    public int rank() {
        return globalDims.length;
    }

    @Override
    public long[] globalDims() {
        return globalDims.clone();
    }

    @Override
    public long[] globalStrides() {
        return globalStrides.clone();
    }

    @Override
    public int[] box() {
        return box.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TiledTensorMap t && type == t.type && address == t.address && swizzle == t.swizzle
                && l2Promotion == t.l2Promotion && Arrays.equals(globalDims, t.globalDims)
                && Arrays.equals(globalStrides, t.globalStrides) && Arrays.equals(box, t.box);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(address) * 31 + Arrays.hashCode(globalDims);
    }

    @Override
    public String toString() {
        return "TiledTensorMap[" + type + " at 0x" + Long.toHexString(address) + ", dims " + Arrays.toString(globalDims)
                + ", strides " + Arrays.toString(globalStrides) + ", box " + Arrays.toString(box) + ", swizzle " + swizzle
                + ", " + l2Promotion + "]";
    }
}
