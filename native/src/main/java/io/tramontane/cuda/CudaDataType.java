package io.tramontane.cuda;

/** The element types cuBLASLt is given here, with their {@code cudaDataType} values (library_types.h). */
public enum CudaDataType {
    R_32F(0, 4), R_16BF(14, 2), R_8F_E4M3(28, 1);

    /** The cudaDataType enum value. */
    public final int value;
    public final int bytes;

    CudaDataType(int value, int bytes) {
        this.value = value;
        this.bytes = bytes;
    }
}
