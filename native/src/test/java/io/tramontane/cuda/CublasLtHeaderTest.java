package io.tramontane.cuda;

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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Checks the cuBLASLt bindings against the installed headers, as {@link DriverSymbolHeaderTest} does for cuda.h:
 * each {@link CublasLtSymbol}'s descriptor against its prototype in cublasLt.h, the enum values {@link CublasLt}
 * and {@link CudaDataType} use against cublasLt.h, cublas_api.h and library_types.h, and the heuristic result's
 * field order. Headers are looked for in $TRAMONTANE_CUBLAS_INCLUDE (e.g. a pip wheel's nvidia/cublas/include),
 * $CUDA_HOME/include, $CUDA_PATH/include and /usr/local/cuda/include; each test is skipped, visibly, without its
 * header (nvcc's toolkit here has library_types.h but no cuBLAS).
 */
class CublasLtHeaderTest {
    private static final Pattern PROTOTYPE =
            Pattern.compile("(?m)^([\\w ]+?\\**)\\s*CUBLASWINAPI\\s+(cublasLt\\w+)\\s*\\(([^;{]*?)\\)\\s*;");

    private static Optional<String> header(String name) {
        return Stream.of(System.getenv("TRAMONTANE_CUBLAS_INCLUDE"), dir("CUDA_HOME"), dir("CUDA_PATH"), "/usr/local/cuda/include")
                .filter(d -> d != null && !d.isBlank())
                .map(d -> Path.of(d, name))
                .filter(Files::isRegularFile)
                .findFirst()
                .map(CublasLtHeaderTest::read);
    }

    private static String dir(String variable) {
        String root = System.getenv(variable);
        return root == null || root.isBlank() ? null : root + "/include";
    }

    private static String read(Path file) {
        try {
            return withoutComments(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String withoutComments(String text) {
        return text.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
    }

    private static String required(String name) {
        Optional<String> text = header(name);
        if (text.isEmpty()) System.err.println("SKIPPED: CublasLtHeaderTest: no " + name + " (set TRAMONTANE_CUBLAS_INCLUDE)");
        assumeTrue(text.isPresent(), "no " + name + " in $TRAMONTANE_CUBLAS_INCLUDE, $CUDA_HOME/include or /usr/local/cuda/include");
        return text.get();
    }

    @Test
    void eachDescriptorMatchesThePrototype() {
        String text = required("cublasLt.h");
        Map<String, String[]> prototypes = new java.util.HashMap<>();
        for (Matcher m = PROTOTYPE.matcher(text); m.find(); ) {
            prototypes.putIfAbsent(m.group(2), new String[] {m.group(1).strip(), m.group(3)});
        }
        for (CublasLtSymbol function : CublasLtSymbol.values()) {
            String[] prototype = prototypes.get(function.apiName());
            assertThat(prototype).as("prototype of %s in cublasLt.h", function.apiName()).isNotNull();
            assertThat(function.descriptor().returnLayout()).as("%s returns %s", function.apiName(), prototype[0])
                    .contains(layout(prototype[0] + " result"));
            assertThat(function.descriptor().argumentLayouts()).as("%s(%s)", function.apiName(), prototype[1])
                    .isEqualTo(layouts(prototype[1]));
        }
    }

    @Test
    void cublasLtEnumValues() {
        String text = required("cublasLt.h");
        assertThat(value(text, "CUBLASLT_MATMUL_DESC_TRANSA")).isEqualTo(CublasLt.MATMUL_DESC_TRANSA);
        assertThat(value(text, "CUBLASLT_MATMUL_DESC_TRANSB")).isEqualTo(CublasLt.MATMUL_DESC_TRANSB);
        assertThat(value(text, "CUBLASLT_MATMUL_DESC_A_SCALE_POINTER")).isEqualTo(CublasLt.MATMUL_DESC_A_SCALE_POINTER);
        assertThat(value(text, "CUBLASLT_MATMUL_DESC_B_SCALE_POINTER")).isEqualTo(CublasLt.MATMUL_DESC_B_SCALE_POINTER);
        assertThat(value(text, "CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES")).isEqualTo(CublasLt.MATMUL_PREF_MAX_WORKSPACE_BYTES);
        assertThat(value(text, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES")).isEqualTo(CublasLt.MATMUL_PREF_MIN_ALIGNMENT_A_BYTES);
        assertThat(value(text, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES")).isEqualTo(CublasLt.MATMUL_PREF_MIN_ALIGNMENT_B_BYTES);
        assertThat(value(text, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES")).isEqualTo(CublasLt.MATMUL_PREF_MIN_ALIGNMENT_C_BYTES);
        assertThat(value(text, "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES")).isEqualTo(CublasLt.MATMUL_PREF_MIN_ALIGNMENT_D_BYTES);
    }

    @Test
    void theHeuristicResultFieldsAreInTheOrderOfTheLayout() {
        String text = required("cublasLt.h");
        Matcher m = Pattern.compile("typedef struct \\{([^}]*)\\} cublasLtMatmulHeuristicResult_t;").matcher(text);
        assertThat(m.find()).as("cublasLtMatmulHeuristicResult_t in cublasLt.h").isTrue();
        List<String> fields = m.group(1).lines().map(String::strip).filter(l -> !l.isEmpty()).map(l -> l.replaceAll("\\s+", " ")).toList();
        assertThat(fields).containsExactly("cublasLtMatmulAlgo_t algo;", "size_t workspaceSize;", "cublasStatus_t state;",
                "float wavesCount;", "int reserved[4];");
        Matcher algo = Pattern.compile("typedef struct \\{\\s*uint64_t data\\[(\\d+)\\];\\s*\\} cublasLtMatmulAlgo_t;").matcher(text);
        assertThat(algo.find()).isTrue();
        assertThat(Long.parseLong(algo.group(1)) * 8).isEqualTo(CublasLt.ALGO_BYTES);
    }

    @Test
    void cublasApiEnumValues() {
        String text = required("cublas_api.h");
        assertThat(value(text, "CUBLAS_COMPUTE_32F")).isEqualTo(CublasLt.COMPUTE_32F);
        assertThat(value(text, "CUBLAS_OP_N")).isEqualTo(CublasLt.OP_N);
        assertThat(value(text, "CUBLAS_OP_T")).isEqualTo(CublasLt.OP_T);
        assertThat(value(text, "CUBLAS_STATUS_SUCCESS")).isZero();
    }

    @Test
    void cudaDataTypeValues() {
        String text = required("library_types.h");
        for (CudaDataType type : CudaDataType.values()) {
            assertThat(value(text, "CUDA_" + type.name())).as("CUDA_" + type.name()).isEqualTo(type.value);
        }
    }

    /** The value of {@code NAME = 123} (enum member) in a header. */
    private static int value(String text, String name) {
        Matcher m = Pattern.compile("\\b" + name + "\\s*=\\s*(\\d+)").matcher(text);
        assertThat(m.find()).as("%s in the header", name).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static List<MemoryLayout> layouts(String parameters) {
        String list = parameters.replaceAll("\\s+", " ").strip();
        if (list.isEmpty() || list.equals("void")) return List.of();
        List<MemoryLayout> layouts = new ArrayList<>();
        for (String parameter : list.split(",")) layouts.add(layout(parameter.strip()));
        return layouts;
    }

    /** The FFM layout of a C parameter such as "const void* alpha" or "cublasLtMatmulHeuristicResult_t results[]". */
    private static MemoryLayout layout(String parameter) {
        if (parameter.contains("*") || parameter.contains("[")) return ADDRESS;
        String type = parameter.substring(0, parameter.lastIndexOf(' ')).replace("const ", "").strip();
        return switch (type) {
            case "int", "unsigned", "cublasStatus_t", "cublasComputeType_t", "cudaDataType_t", "cudaDataType",
                 "cublasLtMatmulDescAttributes_t", "cublasLtMatmulPreferenceAttributes_t",
                 "cublasLtMatrixLayoutAttribute_t" -> JAVA_INT;
            case "size_t", "uint64_t", "int64_t" -> JAVA_LONG;
            case "cublasLtHandle_t", "cublasLtMatmulDesc_t", "cublasLtMatrixLayout_t", "cublasLtMatmulPreference_t",
                 "cudaStream_t" -> ADDRESS;
            default -> throw new AssertionError("no FFM mapping for C type '" + type + "' in '" + parameter + "'");
        };
    }
}
