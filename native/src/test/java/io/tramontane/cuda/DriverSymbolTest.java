package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The descriptors link (no driver needed) and give the exact types CudaDriver's invokeExact calls use. */
class DriverSymbolTest {

    private static MethodType type(DriverSymbol function) {
        // an unbound downcall takes the function address first; drop it to compare with the bound form
        return Linker.nativeLinker().downcallHandle(function.descriptor()).type().dropParameterTypes(0, 1);
    }

    @Test
    void everyDescriptorLinksAndReturnsACUresult() {
        for (DriverSymbol function : DriverSymbol.values()) {
            assertThat(type(function).returnType()).as(function.apiName()).isEqualTo(int.class);
        }
    }

    @Test
    void launchKernelTakesFunctionSixDimensionsSharedMemoryStreamParamsAndExtra() {
        assertThat(type(DriverSymbol.CU_LAUNCH_KERNEL)).isEqualTo(MethodType.methodType(int.class, MemorySegment.class,
                int.class, int.class, int.class, int.class, int.class, int.class, int.class,
                MemorySegment.class, MemorySegment.class, MemorySegment.class));
    }

    @Test
    void deviceMemoryFunctionsUseTheSixtyFourBitAbi() {
        assertThat(DriverSymbol.CU_MEM_ALLOC.symbol()).isEqualTo("cuMemAlloc_v2");
        assertThat(type(DriverSymbol.CU_MEM_ALLOC)).isEqualTo(MethodType.methodType(int.class, MemorySegment.class, long.class));
        assertThat(type(DriverSymbol.CU_MEM_FREE)).isEqualTo(MethodType.methodType(int.class, long.class));
        assertThat(type(DriverSymbol.CU_MEMSET_D8))
                .isEqualTo(MethodType.methodType(int.class, long.class, byte.class, long.class));
        assertThat(type(DriverSymbol.CU_MEMCPY_DTOH_ASYNC)).isEqualTo(MethodType.methodType(int.class,
                MemorySegment.class, long.class, long.class, MemorySegment.class));
    }

    @Test
    void graphInstantiateIsTheFlagsVariant() {
        assertThat(DriverSymbol.CU_GRAPH_INSTANTIATE.symbol()).isEqualTo("cuGraphInstantiateWithFlags");
        assertThat(type(DriverSymbol.CU_GRAPH_INSTANTIATE)).isEqualTo(
                MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class));
    }

    @Test
    void exportedNamesAreUnique() {
        assertThat(Arrays.stream(DriverSymbol.values()).map(DriverSymbol::symbol)).doesNotHaveDuplicates();
    }
}
