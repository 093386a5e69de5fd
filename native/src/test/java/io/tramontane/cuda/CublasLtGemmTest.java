package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The GEMM plan up to the FFM boundary: what reaches cuBLASLt for a shape, argument checks, errors, cleanup. */
class CublasLtGemmTest {
    private static final long BASE = 0x7f00_0000_0000L;
    private static final CublasLtHandle HANDLE = new CublasLtHandle(MemorySegment.ofAddress(0x42));

    /** Buffers for a shape at 256-byte aligned addresses, as cuMemAlloc returns them. */
    private static CublasLtGemm.Operands operands(CublasLtGemm.Shape s, boolean scales) {
        int bytes = s.inputs().bytes;
        DeviceBuffer w = new DeviceBuffer(BASE, s.n() * s.weightStride() * bytes);
        DeviceBuffer x = new DeviceBuffer(BASE + (1L << 32), (long) s.m() * s.k() * bytes);
        DeviceBuffer y = new DeviceBuffer(BASE + (2L << 32), (long) s.m() * s.n() * 4);
        DeviceBuffer workspace = new DeviceBuffer(BASE + (3L << 32), 32 << 20);
        DeviceBuffer wScale = scales ? new DeviceBuffer(BASE + (4L << 32), 4) : null;
        DeviceBuffer xScale = scales ? new DeviceBuffer(BASE + (4L << 32) + 256, 4) : null;
        return new CublasLtGemm.Operands(w, x, y, wScale, xScale, workspace);
    }

    @Test
    void fp8IsPlannedInTnFormWithDeviceScalesAndFp32Output() {
        var shape = new CublasLtGemm.Shape(CudaDataType.R_8F_E4M3, 2048, 1024, 5120, 5136);
        var operands = operands(shape, true);
        try (FakeCublasLt fake = new FakeCublasLt(); var gemm = CublasLtGemm.plan(fake.library(), HANDLE, shape, operands)) {
            assertThat(fake.descriptors).singleElement().satisfies(d -> assertThat(d).containsExactly(68, 0));
            assertThat(fake.descAttributes).containsEntry(CublasLt.MATMUL_DESC_TRANSA, 1L)
                    .containsEntry(CublasLt.MATMUL_DESC_TRANSB, 0L)
                    .containsEntry(CublasLt.MATMUL_DESC_A_SCALE_POINTER, operands.weightScale().address())
                    .containsEntry(CublasLt.MATMUL_DESC_B_SCALE_POINTER, operands.inputScale().address());
            // A = w as [k, n] with ld = row stride; B = x as [k, m] with ld = k; D = y as [n, m] FP32 with ld = n
            assertThat(fake.layouts).containsExactly(List.of(28L, 5120L, 1024L, 5136L), List.of(28L, 5120L, 2048L, 5120L),
                    List.of(0L, 1024L, 2048L, 1024L));
            assertThat(fake.preferences).containsEntry(CublasLt.MATMUL_PREF_MAX_WORKSPACE_BYTES, 32L << 20)
                    .containsEntry(CublasLt.MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, 256L)
                    .containsEntry(CublasLt.MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, 256L);
            assertThat(fake.destroyedPreferences).isEqualTo(1);
            assertThat(gemm.algorithmWorkspaceBytes()).isEqualTo(4096);

            gemm.run(Stream.DEFAULT, 0.5f);
            assertThat(fake.matmul.get("alpha")).isEqualTo(0.5f);
            assertThat(fake.matmul.get("beta")).isEqualTo(0f);
            long y = operands.output().address();
            assertThat(fake.matmul.get("pointers"))
                    .isEqualTo(List.of(operands.weights().address(), operands.input().address(), y, y));
            assertThat(fake.matmul.get("algo")).isEqualTo(0xA160L);
            assertThat(fake.matmul.get("workspace")).isEqualTo(List.of(operands.workspace().address(), 32L << 20));
            assertThat(fake.matmul.get("stream")).isEqualTo(0L);
        }
    }

    @Test
    void bf16SetsNoScalePointersAndOddShapesAreAllowed() {
        var shape = new CublasLtGemm.Shape(CudaDataType.R_16BF, 37, 51, 72);
        try (FakeCublasLt fake = new FakeCublasLt();
             var gemm = CublasLtGemm.plan(fake.library(), HANDLE, shape, operands(shape, false))) {
            assertThat(fake.descAttributes).containsOnlyKeys(CublasLt.MATMUL_DESC_TRANSA, CublasLt.MATMUL_DESC_TRANSB);
            assertThat(fake.layouts.getFirst()).containsExactly(14L, 72L, 51L, 72L);
            assertThat(gemm.shape().flops()).isEqualTo(2.0 * 37 * 51 * 72);
        }
    }

    @Test
    void closeDestroysEveryLayoutAndTheDescriptorOnce() {
        var shape = new CublasLtGemm.Shape(CudaDataType.R_16BF, 64, 64, 64);
        try (FakeCublasLt fake = new FakeCublasLt()) {
            var gemm = CublasLtGemm.plan(fake.library(), HANDLE, shape, operands(shape, false));
            gemm.close();
            gemm.close();
            assertThat(fake.destroyedLayouts).hasSize(3).doesNotHaveDuplicates();
            assertThat(fake.destroyedDescriptors).hasSize(1);
            assertThatThrownBy(() -> gemm.run(Stream.DEFAULT, 1f)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void aRefusedHeuristicNamesTheCallAndStatusAndCleansUp() {
        var shape = new CublasLtGemm.Shape(CudaDataType.R_8F_E4M3, 64, 64, 64);
        try (FakeCublasLt fake = new FakeCublasLt()) {
            fake.heuristicStatus = FakeCublasLt.NOT_SUPPORTED;
            assertThatThrownBy(() -> CublasLtGemm.plan(fake.library(), HANDLE, shape, operands(shape, true)))
                    .isInstanceOf(CublasLtException.class)
                    .hasMessage("cublasLtMatmulAlgoGetHeuristic failed: CUBLAS_STATUS_NOT_SUPPORTED "
                            + "(the requested functionality is not supported)");
            assertThat(fake.destroyedLayouts).hasSize(3);
            assertThat(fake.destroyedDescriptors).hasSize(1);
            assertThat(fake.destroyedPreferences).isEqualTo(1);
        }
    }

    @Test
    void noAlgorithmOrOnlyFailedOnesIsUnsupported() {
        var shape = new CublasLtGemm.Shape(CudaDataType.R_16BF, 64, 64, 64);
        try (FakeCublasLt fake = new FakeCublasLt()) {
            fake.heuristicCount = 0;
            assertThatThrownBy(() -> CublasLtGemm.plan(fake.library(), HANDLE, shape, operands(shape, false)))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessage("cuBLASLt has no algorithm for R_16BF 64x64x64");
            fake.heuristicCount = 1;
            fake.heuristicState = FakeCublasLt.NOT_SUPPORTED;
            assertThatThrownBy(() -> CublasLtGemm.plan(fake.library(), HANDLE, shape, operands(shape, false)))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    void aFailedMatmulNamesIt() {
        var shape = new CublasLtGemm.Shape(CudaDataType.R_16BF, 64, 64, 64);
        try (FakeCublasLt fake = new FakeCublasLt();
             var gemm = CublasLtGemm.plan(fake.library(), HANDLE, shape, operands(shape, false))) {
            fake.matmulStatus = FakeCublasLt.INVALID_VALUE;
            assertThatThrownBy(() -> gemm.run(Stream.DEFAULT, 1f)).isInstanceOf(CublasLtException.class)
                    .hasMessageStartingWith("cublasLtMatmul failed: CUBLAS_STATUS_INVALID_VALUE");
            fake.matmulStatus = 99;  // a status the library cannot name
            assertThatThrownBy(() -> gemm.run(Stream.DEFAULT, 1f)).hasMessage("cublasLtMatmul failed: cublasStatus_t 99");
            assertThatThrownBy(() -> gemm.run(Stream.DEFAULT, Float.NaN)).hasMessageContaining("alpha");
        }
    }

    @Test
    void theAlignmentPreferenceIsWhatTheAddressesHave() {
        assertThat(CublasLtGemm.alignment(new DeviceBuffer(BASE, 1))).isEqualTo(256);
        assertThat(CublasLtGemm.alignment(new DeviceBuffer(BASE + 48, 1))).isEqualTo(16);
        assertThat(CublasLtGemm.alignment(new DeviceBuffer(BASE + 2, 1))).isEqualTo(2);
    }

    @Test
    void shapesAreChecked() {
        assertThatThrownBy(() -> new CublasLtGemm.Shape(CudaDataType.R_16BF, 0, 8, 8))
                .hasMessage("GEMM shape must be positive: m=0, n=8, k=8");
        assertThatThrownBy(() -> new CublasLtGemm.Shape(CudaDataType.R_16BF, 8, 8, 8, 4)).hasMessage("weight stride 4 < k=8");
        assertThatThrownBy(() -> new CublasLtGemm.Shape(CudaDataType.R_8F_E4M3, 8, 8, 40))
                .hasMessage("FP8 cublasLtMatmul needs k and the weight stride to be multiples of 16: k=40, weight stride=40");
        assertThatThrownBy(() -> new CublasLtGemm.Shape(CudaDataType.R_8F_E4M3, 8, 8, 48, 56))
                .hasMessageContaining("weight stride=56");
    }

    @Test
    void operandsAreCheckedAgainstTheShapeBeforeAnyCall() {
        var fp8 = new CublasLtGemm.Shape(CudaDataType.R_8F_E4M3, 32, 48, 64);
        var good = operands(fp8, true);
        try (FakeCublasLt fake = new FakeCublasLt()) {
            CublasLt lt = fake.library();
            assertThatThrownBy(() -> CublasLtGemm.plan(lt, HANDLE, fp8, new CublasLtGemm.Operands(good.weights(),
                    good.input().slice(0, 100), good.output(), good.weightScale(), good.inputScale(), null)))
                    .hasMessage("GEMM input has 100 bytes, expected at least 2048");
            assertThatThrownBy(() -> CublasLtGemm.plan(lt, HANDLE, fp8, new CublasLtGemm.Operands(good.weights(),
                    good.input(), good.output().slice(0, 4), good.weightScale(), good.inputScale(), null)))
                    .hasMessage("GEMM output has 4 bytes, expected at least 6144");
            assertThatThrownBy(() -> CublasLtGemm.plan(lt, HANDLE, fp8, new CublasLtGemm.Operands(good.weights(),
                    good.input(), good.output(), null, good.inputScale(), null)))
                    .hasMessage("GEMM weight scale buffer is missing");
            DeviceBuffer misaligned = new DeviceBuffer(good.input().address() + 8, good.input().bytes());
            assertThatThrownBy(() -> CublasLtGemm.plan(lt, HANDLE, fp8, new CublasLtGemm.Operands(good.weights(),
                    misaligned, good.output(), good.weightScale(), good.inputScale(), null)))
                    .hasMessageStartingWith("FP8 cublasLtMatmul needs 16-byte aligned matrices");
            var bf16 = new CublasLtGemm.Shape(CudaDataType.R_16BF, 32, 48, 64);
            var scaled = operands(bf16, true);
            assertThatThrownBy(() -> CublasLtGemm.plan(lt, HANDLE, bf16, scaled))
                    .hasMessage("per-tensor scale pointers are for FP8 inputs, not R_16BF: fold the scales into alpha");
            assertThat(fake.descriptors).isEmpty();
        }
    }

    @Test
    void withoutAWorkspaceOnlyWorkspaceFreeAlgorithmsAreAsked() {
        var shape = new CublasLtGemm.Shape(CudaDataType.R_16BF, 64, 64, 64);
        var o = operands(shape, false);
        try (FakeCublasLt fake = new FakeCublasLt(); var gemm = CublasLtGemm.plan(fake.library(), HANDLE, shape,
                new CublasLtGemm.Operands(o.weights(), o.input(), o.output(), null, null, null))) {
            assertThat(fake.preferences).containsEntry(CublasLt.MATMUL_PREF_MAX_WORKSPACE_BYTES, 0L);
            gemm.run(Stream.DEFAULT, 1f);
            assertThat(fake.matmul.get("workspace")).isEqualTo(List.of(0L, 0L));
        }
    }
}
