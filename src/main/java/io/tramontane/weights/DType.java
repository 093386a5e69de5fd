package io.tramontane.weights;

/** Element types of safetensors files (the names are the header's {@code dtype} strings). */
public enum DType {
    F64(64), F32(32), F16(16), BF16(16), F8_E4M3(8), F8_E5M2(8),
    I64(64), I32(32), I16(16), I8(8), U8(8), BOOL(8);

    private final int bits;

    DType(int bits) {
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    public int bytes() {
        return bits / 8;
    }

    public boolean isFloat() {
        return switch (this) {
            case F64, F32, F16, BF16, F8_E4M3, F8_E5M2 -> true;
            default -> false;
        };
    }

    /** The dtype for a header string, or an error listing the accepted ones. */
    public static DType parse(String name) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown dtype '" + name + "', expected one of "
                    + java.util.Arrays.toString(values()));
        }
    }
}
