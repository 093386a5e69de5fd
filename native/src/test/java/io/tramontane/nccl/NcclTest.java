package io.tramontane.nccl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Stream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NCCL bindings through real native calls into {@link FakeNccl}: arguments, out-parameters, errors, probing. */
class NcclTest {
    private final FakeNccl fake = new FakeNccl();
    private final Nccl nccl = fake.nccl();

    @AfterEach
    void close() {
        fake.close();
    }

    @Test
    void initAllMakesOneRankPerDeviceInOrder() {
        List<NcclComm> comms = nccl.initAll(new int[] {2, 0, 1});
        assertThat(comms).extracting(NcclComm::rank).containsExactly(0, 1, 2);
        assertThat(comms).extracting(NcclComm::device).containsExactly(2, 0, 1);
        assertThat(comms).extracting(c -> c.handle().address()).containsExactly(0x1002L, 0x1000L, 0x1001L);
        assertThat(comms).allSatisfy(c -> assertThat(c.ranks()).isEqualTo(3));
        assertThat(nccl.count(comms.getFirst())).isEqualTo(2);
    }

    @Test
    void initAllRejectsRepeatedOrNegativeDevices() {
        assertThatThrownBy(() -> nccl.initAll(new int[] {0, 0})).hasMessageContaining("device 0 given twice");
        assertThatThrownBy(() -> nccl.initAll(new int[] {-1})).hasMessageContaining("device ordinal -1");
        assertThatThrownBy(() -> nccl.initAll(new int[0])).hasMessageContaining("at least one device");
    }

    @Test
    void allReduceSumsFloatsInPlaceOnTheGivenStream() {
        NcclComm comm = nccl.initAll(new int[] {0, 1}).get(1);
        nccl.allReduceSum(comm, new DeviceBuffer(0x7000_0000L, 4096), new Stream(MemorySegment.ofAddress(0x55)));
        assertThat(fake.lastCall).containsEntry("call", "allReduce").containsEntry("send", 0x7000_0000L)
                .containsEntry("recv", 0x7000_0000L).containsEntry("count", 1024L)
                .containsEntry("type", NcclSymbol.FLOAT32).containsEntry("op", NcclSymbol.SUM)
                .containsEntry("comm", 0x1001L).containsEntry("stream", 0x55L);
    }

    @Test
    void allGatherNeedsARankSizedReceiveBuffer() {
        NcclComm comm = nccl.initAll(new int[] {0, 1}).getFirst();
        nccl.allGather(comm, new DeviceBuffer(0x1000_0000L, 400), new DeviceBuffer(0x2000_0000L, 800), Stream.DEFAULT);
        assertThat(fake.lastCall).containsEntry("call", "allGather").containsEntry("count", 100L)
                .containsEntry("type", NcclSymbol.FLOAT32).containsEntry("stream", 0L);
        nccl.allGatherInts(comm, new DeviceBuffer(0x1000_0000L, 4), new DeviceBuffer(0x2000_0000L, 8), Stream.DEFAULT);
        assertThat(fake.lastCall).containsEntry("type", NcclSymbol.INT32).containsEntry("count", 1L);
        assertThatThrownBy(() -> nccl.allGather(comm, new DeviceBuffer(0x1000_0000L, 400), new DeviceBuffer(0x2000_0000L, 400),
                Stream.DEFAULT)).hasMessageContaining("all-gather receive buffer of 2 ranks has 400 bytes, expected 800");
        assertThatThrownBy(() -> nccl.allReduceSum(comm, new DeviceBuffer(0x1000_0002L, 8), Stream.DEFAULT))
                .hasMessageContaining("4-byte aligned");
    }

    @Test
    void aFailedCallNamesTheCallTheResultAndNcclsLastError() {
        fake.allReduceResult = FakeNccl.INVALID_ARGUMENT;
        NcclComm comm = nccl.initAll(new int[] {0}).getFirst();
        assertThatThrownBy(() -> nccl.allReduceSum(comm, new DeviceBuffer(0x7000_0000L, 16), Stream.DEFAULT))
                .isInstanceOf(NcclException.class)
                .hasMessage("ncclAllReduce failed: ncclInvalidArgument (invalid argument): peer rank 1 unreachable");
        // an unbound function answers ncclInvalidUsage, which the fake does not describe
        assertThatThrownBy(nccl::groupStart).hasMessage("ncclGroupStart failed: ncclInvalidUsage: peer rank 1 unreachable");
        assertThat(NcclException.name(42)).isEqualTo("ncclResult_t 42");
    }

    @Test
    void probeReadsTheVersionAndRefusesOldOnes() {
        NcclProbe probe = NcclProbe.probe(fake.lookup(Set.of()), "fake-libnccl");
        assertThat(probe.available()).isTrue();
        assertThat(probe.reason()).isEqualTo("NCCL 2.30.7 from fake-libnccl");
        fake.version = 21703;
        NcclProbe old = NcclProbe.probe(fake.lookup(Set.of()), "fake-libnccl");
        assertThat(old.available()).isFalse();
        assertThat(old.reason()).isEqualTo("fake-libnccl is NCCL 2.17.3; Tramontane needs 2.18.0 or later");
    }

    @Test
    void probeNamesAMissingSymbolAndAMissingLibrary() {
        NcclProbe partial = NcclProbe.probe(fake.lookup(Set.of("ncclCommAbort")), "fake-libnccl");
        assertThat(partial.reason()).isEqualTo("fake-libnccl does not export ncclCommAbort (NCCL older than 2.18?)");
        NcclProbe missing = NcclProbe.probe(List.of("libnccl-that-does-not-exist.so.2"), () -> List.of("/nowhere/libnccl.so.2"));
        assertThat(missing.available()).isFalse();
        assertThat(missing.reason()).isEqualTo("libnccl.so.2 not found (tried: libnccl-that-does-not-exist.so.2, "
                + "/nowhere/libnccl.so.2; set TRAMONTANE_NCCL_LIBRARY to its path)");
    }

    @Test
    void candidatesAreTheOverrideAloneOrTheLoaderThenPythonWheels(@TempDir Path dir) throws Exception {
        assertThat(NcclLibrary.first("/opt/nccl/libnccl.so.2")).containsExactly("/opt/nccl/libnccl.so.2");
        assertThat(NcclLibrary.wheels("/opt/nccl/libnccl.so.2", List.of(dir))).isEmpty();
        assertThat(NcclLibrary.first(null)).containsExactly("libnccl.so.2");
        assertThat(NcclLibrary.wheels("", List.of(dir))).isEmpty();
        Path wheel = Files.createDirectories(dir.resolve("nvidia/nccl/lib")).resolve("libnccl.so.2");
        Files.writeString(wheel, "");
        assertThat(NcclLibrary.wheels("", List.of(dir, dir.resolve("absent")))).containsExactly(wheel.toString());
    }

    @Test
    void theWheelsAreAskedForOnlyWhenTheLoaderFindsNothing() {
        AtomicInteger asked = new AtomicInteger();
        NcclProbe.probe(List.of("libc.so.6"), () -> {  // opens (binding then fails): the wheels are not needed
            asked.incrementAndGet();
            return List.of();
        });
        assertThat(asked).hasValue(0);
    }

    @Test
    void versionTextSplitsTheCode() {
        assertThat(Nccl.versionText(23007)).isEqualTo("2.30.7");
        assertThat(Nccl.versionText(21800)).isEqualTo("2.18.0");
    }
}
