package io.tramontane.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checks every {@link NcclSymbol} against an nccl.h: declared, with the same return and parameter C types. Looks
 * in {@code $TRAMONTANE_NCCL_INCLUDE}, /usr/include and the CUDA toolkit; skipped, visibly, without one (NCCL's
 * headers come with libnccl-dev or the nvidia-nccl wheel, neither of which CI installs).
 */
class NcclSymbolHeaderTest {
    private static final Pattern PROTOTYPE =
            Pattern.compile("(?m)^(ncclResult_t|const char\\*)\\s+(nccl\\w+)\\(([^)]*)\\);");
    private static final Map<String, String[]> prototypes = new HashMap<>();
    private static Optional<Path> header = Optional.empty();

    @BeforeAll
    static void readHeader() throws IOException {
        header = Stream.of(System.getenv("TRAMONTANE_NCCL_INCLUDE"), "/usr/include", "/usr/local/cuda/include")
                .filter(dir -> dir != null && !dir.isBlank())
                .map(dir -> Path.of(dir, "nccl.h"))
                .filter(Files::isRegularFile)
                .findFirst();
        if (header.isEmpty()) {
            System.err.println("SKIPPED: NcclSymbolHeaderTest: no nccl.h in $TRAMONTANE_NCCL_INCLUDE, /usr/include or /usr/local/cuda/include");
            return;
        }
        String text = Files.readString(header.get());
        for (Matcher m = PROTOTYPE.matcher(text); m.find(); ) {
            prototypes.putIfAbsent(m.group(2), new String[] {m.group(1), m.group(3)});
        }
    }

    @BeforeEach
    void requireHeader() {
        assumeTrue(header.isPresent(), "no nccl.h found (set TRAMONTANE_NCCL_INCLUDE)");
    }

    @ParameterizedTest
    @EnumSource(NcclSymbol.class)
    void bindingMatchesThePrototype(NcclSymbol function) {
        String[] prototype = prototypes.get(function.symbol());
        assertThat(prototype).as("%s declared in %s", function.symbol(), header.get()).isNotNull();
        assertThat(function.descriptor().returnLayout()).contains(typeLayout(prototype[0]));
        List<MemoryLayout> parameters = new ArrayList<>();
        for (String parameter : prototype[1].split(",")) {
            if (!parameter.isBlank() && !parameter.strip().equals("void")) parameters.add(layout(parameter));
        }
        assertThat(function.descriptor().argumentLayouts()).as(function.symbol()).containsExactlyElementsOf(parameters);
    }

    /** The FFM layout of a C parameter declaration as nccl.h spells it ({@code int* count}). */
    private static MemoryLayout layout(String declaration) {
        return typeLayout(declaration.strip().replaceAll("\\w+$", ""));  // without the parameter's name
    }

    private static MemoryLayout typeLayout(String declaration) {
        String type = declaration.replace("const ", "").strip();
        if (type.endsWith("*")) return ADDRESS;
        return switch (type) {
            case "int", "ncclResult_t", "ncclDataType_t", "ncclRedOp_t" -> JAVA_INT;
            case "size_t" -> JAVA_LONG;
            case "ncclComm_t", "cudaStream_t" -> ADDRESS;
            default -> throw new AssertionError("unmapped C type '" + type + "' in '" + declaration + "'");
        };
    }
}
