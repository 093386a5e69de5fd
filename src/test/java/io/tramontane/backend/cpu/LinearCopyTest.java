package io.tramontane.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.tramontane.host.HugePages;
import io.tramontane.weights.DType;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link LinearCopy}: a view's rows, in its order, in a contiguous matrix of the backend's own memory. */
class LinearCopyTest {

    @ParameterizedTest(name = "{0} [{1}, {2}]")
    @CsvSource({"BF16,40,96", "F8_E4M3,1100,2048", "F32,600,1030"})
    void aViewBecomesAContiguousMatrixWithTheSameRowBytes(DType dtype, int rows, int cols) {
        Tensor tensor = DotKernelsTest.randomRows(dtype, rows, cols, new SplittableRandom(rows + cols));
        int[] order = IntStream.range(0, rows).map(r -> (r * 7) % rows).toArray();
        Tensor[] views = {tensor, tensor.permuteRows(order).rowRange(1, rows - 1), tensor.columnRange(3, cols - 5)};
        try (CpuThreads threads = new CpuThreads(2); Arena arena = Arena.ofShared()) {
            for (Tensor view : views) {
                Tensor copy = LinearCopy.of(view, threads, arena);
                assertThat(copy.isContiguous()).isTrue();
                assertThat(copy.shape()).containsExactly(view.rows(), view.cols());
                assertThat(copy.dtype()).isEqualTo(dtype);
                assertThat(copy.storage().address()).isNotEqualTo(view.storage().address());
                long bytes = copy.storage().byteSize();
                if (HugePages.mapsItsOwn() && bytes >= HugePages.SIZE) {
                    assertThat(copy.storage().address() % HugePages.SIZE).as("a mapping of its own, on a 2 MB boundary").isZero();
                }
                for (int r = 0; r < view.rows(); r++) {
                    assertThat(copy.rowBytes(r).mismatch(view.rowBytes(r))).as("%s row %d", view, r).isEqualTo(-1);
                }
            }
        }
    }
}
