package io.tramontane.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The driver bindings through real native calls into {@link FakeDriver}: marshalling and error reporting. */
class CudaDriverTest {
    private final FakeDriver fake = new FakeDriver();
    private final CudaDriver driver = fake.driver();

    @AfterEach
    void close() {
        fake.close();
    }

    @Test
    void aGraphUpdateThatTheDriverRefusesAsksForANewInstantiation() {
        GraphExec exec = new GraphExec(MemorySegment.ofAddress(0x1234));
        Graph graph = new Graph(MemorySegment.ofAddress(0x5678));
        assertThat(driver.graphExecUpdate(exec, graph)).isTrue();
        assertThat(fake.graphExecUpdate).containsExactly(0x1234, 0x5678);
        fake.graphExecUpdateResult = 910;  // CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE
        assertThat(driver.graphExecUpdate(exec, graph)).isFalse();
        fake.graphExecUpdateResult = FakeDriver.NOT_SUPPORTED;
        assertThatThrownBy(() -> driver.graphExecUpdate(exec, graph)).isInstanceOf(CudaException.class)
                .hasMessageStartingWith("cuGraphExecUpdate_v2 failed: CUDA_ERROR_NOT_SUPPORTED");
    }

    @Test
    void aFailingCallNamesTheSymbolAndTheResult() {
        fake.memoryLimit = 1024;
        assertThatThrownBy(() -> driver.memAlloc(4096))
                .isInstanceOf(CudaException.class)
                .hasMessage("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)")
                .satisfies(e -> assertThat(((CudaException) e).result()).isEqualTo(FakeDriver.OUT_OF_MEMORY));
    }

    @Test
    void aResultTheDriverCannotNameIsReportedByNumber() {
        CudaException e = new CudaException("cuInit", 12345, driver.errorName(12345), driver.errorString(12345));
        assertThat(e).hasMessage("cuInit failed: CUresult 12345");
        assertThat(e.resultName()).isEqualTo("CUresult 12345");
    }

    @Test
    void unimplementedFunctionsFailWithTheirVersionedSymbol() {
        assertThatThrownBy(() -> driver.graphInstantiate(new Graph(MemorySegment.ofAddress(0x10))))
                .hasMessage("cuGraphInstantiateWithFlags failed: CUDA_ERROR_NOT_SUPPORTED (operation not supported)");
        assertThatThrownBy(() -> driver.streamBeginCapture(new Stream(MemorySegment.ofAddress(0x20)), CaptureMode.GLOBAL))
                .hasMessageStartingWith("cuStreamBeginCapture_v2 failed");
    }

    @Test
    void outParametersComeBack() {
        assertThat(driver.driverVersion()).isEqualTo(13000);
        assertThat(driver.deviceCount()).isEqualTo(1);
        DeviceBuffer buffer = driver.memAlloc(100);
        assertThat(buffer.address()).isEqualTo(0x7f00_0000_0000L);
        assertThat(buffer.bytes()).isEqualTo(100);
    }

    @Test
    void launchPassesTheConfigurationAndAPointerToEachArgument() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(arena, 5)
                    .pointer(new DeviceBuffer(0x1000, 16)).pointer(new DeviceBuffer(0x2000, 16))
                    .pointer(new DeviceBuffer(0x3000, 16)).i32(4096).f32(1e-5f);
            Kernel kernel = new Kernel(MemorySegment.ofAddress(0xabc));
            Stream stream = new Stream(MemorySegment.ofAddress(0xdef));
            driver.launchKernel(kernel, new LaunchConfig(new Dim3(7, 2, 1), Dim3.of(256), 1024), stream, args);

            assertThat(fake.launch.get("function")).isEqualTo(0xabcL);
            assertThat(fake.launch.get("dims")).isEqualTo(List.of(7, 2, 1, 256, 1, 1, 1024));
            assertThat(fake.launch.get("stream")).isEqualTo(0xdefL);
            assertThat(fake.launch.get("extra")).isEqualTo(0L);
            assertThat(fake.launch.get("params")).isEqualTo(
                    List.of(0x1000L, 0x2000L, 0x3000L, 4096L, (long) Float.floatToRawIntBits(1e-5f)));
        }
    }

    @Test
    void memsetD32CountsWords() {
        driver.memsetD32(new DeviceBuffer(0x1000, 40), 0x7fc00000);
        assertThat(fake.memsetD32).containsExactly(0x1000, 0x7fc00000, 10);
        assertThatThrownBy(() -> driver.memsetD32(new DeviceBuffer(0x1000, 6), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4-byte aligned");
    }

    @Test
    void copiesRequireEqualSizesAndNativeHostMemory() {
        try (Arena arena = Arena.ofConfined()) {
            DeviceBuffer device = new DeviceBuffer(0x1000, 16);
            MemorySegment host = arena.allocate(16).fill((byte) 9);
            driver.copyToDevice(device, host);
            assertThat(fake.copyToDevice).containsExactly(0x1000, 9, 16);

            assertThatThrownBy(() -> driver.copyToDevice(device, arena.allocate(17)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("17 host bytes");
            assertThatThrownBy(() -> driver.copyToHost(arena.allocate(8), device))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16-byte device buffer");
            assertThatThrownBy(() -> driver.copyToDevice(device, MemorySegment.ofArray(new byte[16])))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("native");
        }
    }

    @Test
    void aDeviceBufferSliceStaysInBounds() {
        DeviceBuffer buffer = new DeviceBuffer(0x1000, 64);
        assertThat(buffer.slice(16, 32)).isEqualTo(new DeviceBuffer(0x1010, 32));
        assertThatThrownBy(() -> buffer.slice(48, 32)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> buffer.requireBytes(32, "x")).hasMessage("x has 64 bytes, expected 32");
    }

    @Test
    void aTensorMapIsEncodedFromItsSpecAndTravelsByValue() {
        TiledTensorMap spec = TiledTensorMap.matrix(TiledTensorMap.DataType.BFLOAT16, new DeviceBuffer(0x10000, 1 << 20),
                300, 70, 144, 128, 64, TiledTensorMap.Swizzle.B128, TiledTensorMap.L2Promotion.L2_256B);
        TensorMap map = driver.tensorMapEncodeTiled(spec);
        assertThat(fake.tensorMap.get("aligned")).isEqualTo(true);
        assertThat(fake.tensorMap.get("scalars")).isEqualTo(List.of(9, 2, 0, 3, 3, 0));  // BF16, rank 2, no interleave, 128B, 256B, zeros
        assertThat(fake.tensorMap.get("address")).isEqualTo(0x10000L);
        assertThat(fake.tensorMap.get("dims")).isEqualTo(List.of(70L, 300L));
        assertThat(fake.tensorMap.get("strides")).isEqualTo(List.of(144L));
        assertThat(fake.tensorMap.get("box")).isEqualTo(List.of(64, 128));
        assertThat(fake.tensorMap.get("elementStrides")).isEqualTo(List.of(1, 1));
        assertThat(map.spec()).isEqualTo(spec);
        assertThat(map.firstWord()).isEqualTo(0x10000L);

        try (Arena arena = Arena.ofConfined()) {
            fake.launchParamCount = 2;
            KernelArgs args = new KernelArgs(arena, 2).tensorMap(map).i32(5);
            driver.launchKernel(new Kernel(MemorySegment.ofAddress(0xabc)), new LaunchConfig(Dim3.of(1), Dim3.of(384), 0),
                    new Stream(MemorySegment.ofAddress(0xdef)), args);
            assertThat(fake.launch.get("params")).isEqualTo(List.of(0x10000L, 5L));
        }
    }
}
