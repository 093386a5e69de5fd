package io.tramontane.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
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
import org.junit.jupiter.api.Test;

/**
 * Checks every {@link DriverSymbol} against the cuda.h of the installed toolkit: the symbol is the one the
 * header #defines the API name to, and the descriptor has the prototype's parameters in the right C types.
 * This is what keeps hand-written bindings honest without a GPU. Skipped, visibly, without a CUDA toolkit.
 */
class DriverSymbolHeaderTest {
    private static final Pattern DEFINE =
            Pattern.compile("(?m)^#define\\s+(cu\\w+)\\s+(?:__CUDA_API_PT(?:DS|SZ)\\()?(\\w+)\\)?\\s*$");
    private static final Pattern PROTOTYPE = Pattern.compile("CUresult CUDAAPI (cu\\w+)\\(([^)]*)\\);");

    private static final Map<String, String> defines = new HashMap<>();
    private static final Map<String, String> prototypes = new HashMap<>();

    @BeforeAll
    static void readHeader() throws IOException {
        Optional<Path> header = header();
        if (header.isEmpty()) {
            System.err.println("SKIPPED: DriverSymbolHeaderTest: no cuda.h in $CUDA_HOME/include or /usr/local/cuda/include");
            return;
        }
        String text = Files.readString(header.get());
        for (Matcher m = DEFINE.matcher(text); m.find(); ) defines.putIfAbsent(m.group(1), m.group(2));
        for (Matcher m = PROTOTYPE.matcher(text); m.find(); ) prototypes.putIfAbsent(m.group(1), m.group(2));
    }

    private static Optional<Path> header() {
        return Stream.of(System.getenv("CUDA_HOME"), System.getenv("CUDA_PATH"), "/usr/local/cuda")
                .filter(dir -> dir != null && !dir.isBlank())
                .map(dir -> Path.of(dir, "include", "cuda.h"))
                .filter(Files::isRegularFile)
                .findFirst();
    }

    /** Per test, so each one is reported as skipped with the reason. */
    @BeforeEach
    void needsTheHeader() {
        assumeTrue(!prototypes.isEmpty(), "no cuda.h in $CUDA_HOME/include or /usr/local/cuda/include");
    }

    @Test
    void eachBindingUsesTheSymbolTheHeaderSelects() {
        for (DriverSymbol function : DriverSymbol.values()) {
            assertThat(function.symbol()).as("cuda.h maps %s to", function.apiName())
                    .isEqualTo(defines.getOrDefault(function.apiName(), function.apiName()));
        }
    }

    @Test
    void eachDescriptorMatchesThePrototype() {
        for (DriverSymbol function : DriverSymbol.values()) {
            String parameters = prototypes.get(function.apiName());
            assertThat(parameters).as("prototype of %s in cuda.h", function.apiName()).isNotNull();
            assertThat(function.descriptor().argumentLayouts()).as("%s(%s)", function.apiName(), parameters)
                    .isEqualTo(layouts(parameters));
        }
    }

    /** The FFM layouts of a C parameter list, e.g. "CUdeviceptr dstDevice, const void *srcHost, size_t n". */
    private static List<MemoryLayout> layouts(String parameters) {
        String list = parameters.replaceAll("\\s+", " ").strip();
        if (list.isEmpty() || list.equals("void")) return List.of();
        List<MemoryLayout> layouts = new ArrayList<>();
        for (String parameter : list.split(",")) layouts.add(layout(parameter.strip()));
        return layouts;
    }

    private static MemoryLayout layout(String parameter) {
        if (parameter.contains("*")) return ADDRESS;
        String type = parameter.substring(0, parameter.lastIndexOf(' ')).replace("const ", "").strip();
        return switch (type) {
            case "int", "unsigned int", "cuuint32_t", "CUdevice", "CUresult", "CUdevice_attribute", "CUfunction_attribute",
                 "CUstreamCaptureMode", "CUtensorMapDataType", "CUtensorMapInterleave", "CUtensorMapSwizzle",
                 "CUtensorMapL2promotion", "CUtensorMapFloatOOBfill" -> JAVA_INT;
            case "size_t", "CUdeviceptr", "unsigned long long" -> JAVA_LONG;
            case "unsigned char" -> JAVA_BYTE;
            case "CUcontext", "CUstream", "CUevent", "CUmodule", "CUfunction", "CUgraph", "CUgraphExec" -> ADDRESS;
            default -> throw new AssertionError("no FFM mapping for C type '" + type + "' in '" + parameter + "'");
        };
    }
}
