package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.cuda.TiledTensorMap.DataType;
import io.tramontane.cuda.TiledTensorMap.L2Promotion;
import io.tramontane.cuda.TiledTensorMap.Swizzle;
import org.junit.jupiter.api.Test;

/** cuTensorMapEncodeTiled's documented constraints, checked before the driver sees them. */
class TiledTensorMapTest {
    private static final DeviceBuffer BUFFER = new DeviceBuffer(0x10000, 1 << 20);

    private static TiledTensorMap matrix(DataType type, long rows, long cols, long rowBytes, int boxRows, int boxCols, Swizzle swizzle) {
        return TiledTensorMap.matrix(type, BUFFER, rows, cols, rowBytes, boxRows, boxCols, swizzle, L2Promotion.L2_256B);
    }

    @Test
    void aMatrixIsColumnsInnermost() {
        TiledTensorMap map = matrix(DataType.UINT8, 3, 17, 32, 128, 128, Swizzle.B128);
        assertThat(map.globalDims()).containsExactly(17, 3);
        assertThat(map.globalStrides()).containsExactly(32);
        assertThat(map.box()).containsExactly(128, 128);
        assertThat(map.rank()).isEqualTo(2);
    }

    @Test
    void refusesWhatTheDriverWouldRefuse() {
        assertThatThrownBy(() -> matrix(DataType.BFLOAT16, 4, 9, 18, 8, 64, Swizzle.B128))
                .hasMessageContaining("globalStride must be a positive multiple of 16");
        assertThatThrownBy(() -> matrix(DataType.BFLOAT16, 4, 64, 128, 8, 128, Swizzle.B128))
                .hasMessageContaining("256 bytes exceeds the 128-byte swizzle span");
        assertThatThrownBy(() -> matrix(DataType.BFLOAT16, 4, 64, 128, 300, 64, Swizzle.B128))
                .hasMessageContaining("boxDim must be in 1..256: 300");
        assertThatThrownBy(() -> matrix(DataType.UINT8, 4, 64, 64, 8, 12, Swizzle.NONE))
                .hasMessageContaining("box row of 12 bytes is not a multiple of 16");
        assertThatThrownBy(() -> matrix(DataType.BFLOAT16, 4, 64, 112, 8, 64, Swizzle.B128))
                .hasMessageContaining("globalStride[0] 112 is shorter than the 128 bytes");
        assertThatThrownBy(() -> TiledTensorMap.matrix(DataType.FLOAT32, new DeviceBuffer(0x10008, 4096), 2, 4, 16, 2, 4,
                Swizzle.NONE, L2Promotion.NONE)).hasMessageContaining("16-byte aligned: 0x10008");
        assertThatThrownBy(() -> TiledTensorMap.matrix(DataType.FLOAT32, new DeviceBuffer(0x10000, 100), 2, 32, 128, 2, 32,
                Swizzle.B128, L2Promotion.NONE)).hasMessageContaining("100-byte buffer, expected at least 256");
    }
}
