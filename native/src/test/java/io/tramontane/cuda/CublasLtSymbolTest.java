package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodType;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** The descriptors link (no library needed) and give the exact types CublasLt's invokeExact calls use. */
class CublasLtSymbolTest {

    private static MethodType type(CublasLtSymbol function) {
        return Linker.nativeLinker().downcallHandle(function.descriptor()).type().dropParameterTypes(0, 1);
    }

    @Test
    void statusFunctionsReturnAStatusAndTheTextsAPointer() {
        for (CublasLtSymbol function : CublasLtSymbol.values()) {
            Class<?> expected = switch (function) {
                case GET_STATUS_NAME, GET_STATUS_STRING -> MemorySegment.class;
                case GET_VERSION -> long.class;
                default -> int.class;
            };
            assertThat(type(function).returnType()).as(function.apiName()).isEqualTo(expected);
        }
    }

    @Test
    void matmulTakesSixteenArgumentsWithTheWorkspaceSizeAsSizeT() {
        MethodType matmul = type(CublasLtSymbol.MATMUL);
        assertThat(matmul.parameterCount()).isEqualTo(16);
        assertThat(matmul.parameterType(14)).isEqualTo(long.class);
        assertThat(Collections.frequency(matmul.parameterList(), MemorySegment.class)).isEqualTo(15);
    }

    @Test
    void layoutsTakeSixtyFourBitDimensions() {
        assertThat(type(CublasLtSymbol.MATRIX_LAYOUT_CREATE)).isEqualTo(MethodType.methodType(int.class,
                MemorySegment.class, int.class, long.class, long.class, long.class));
    }

    @Test
    void theHeuristicResultIsNinetySixBytesWithTheStateAfterTheWorkspaceSize() {
        assertThat(CublasLt.HEURISTIC_RESULT.byteSize()).isEqualTo(96);
        assertThat(CublasLt.HEURISTIC_RESULT.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("state")))
                .isEqualTo(72);
    }
}
