package io.tramontane.backend.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch's time for the GEMM baseline's shapes, where the machine has python3 with a CUDA torch (the GPU machines
 * do; this one does not): {@code pytorch_gemm_baseline.py}, shipped in the jar, runs once as {@code python3 -c} in a
 * child process before the section's own work and prints JSON. Never throws; what could not be measured says why.
 *
 * @param description "torch 2.9.0 on NVIDIA H100 80GB HBM3", or why there are no timings ("no torch: ...")
 * @param micros      best-of-5 device time per shape key ({@link #key})
 * @param errors      why a shape has no timing, per key
 */
record PyTorchBaseline(boolean available, String description, Map<String, Double> micros, Map<String, String> errors) {
    static final String SCRIPT = "/io/tramontane/backend/cuda/pytorch_gemm_baseline.py";
    static final long TIMEOUT_SECONDS = 600;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One GEMM to time: y[m, n] = x[m, k] w[n, k]^T in "fp8" or "bf16". */
    record Shape(String precision, int m, int n, int k) {}

    static String key(String precision, int m, int n, int k) {
        return precision + " " + m + "x" + n + "x" + k;
    }

    /** PyTorch's time for the shape, if it measured one. */
    Optional<Double> micros(String precision, int m, int n, int k) {
        return Optional.ofNullable(micros.get(key(precision, m, n, k)));
    }

    static PyTorchBaseline unavailable(String why) {
        return new PyTorchBaseline(false, why, Map.of(), Map.of());
    }

    /** Runs the script with {@code python3 -c} on {@code shapes}. */
    static PyTorchBaseline measure(List<Shape> shapes) {
        try (InputStream in = PyTorchBaseline.class.getResourceAsStream(SCRIPT)) {
            if (in == null) return unavailable("the jar lacks " + SCRIPT);
            String script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return run(List.of("python3", "-c", script, JSON.writeValueAsString(shapes)), TIMEOUT_SECONDS);
        } catch (IOException e) {
            return unavailable("cannot read " + SCRIPT + ": " + e.getMessage());
        }
    }

    /** Runs {@code command}, which prints the script's JSON (a few kB: the pipe holds it until the end), and parses it. */
    static PyTorchBaseline run(List<String> command, long timeoutSeconds) {
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            process.getOutputStream().close();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return unavailable("python3 took over " + timeoutSeconds + " s");
            }
            String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.exitValue() != 0) return unavailable("python3 exited with " + process.exitValue());
            return parse(text);
        } catch (IOException e) {
            return unavailable("cannot run python3: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable("interrupted");
        }
    }

    /** The script's output: {"unavailable": why} or {"torch", "device", "results": [shape + "us" or "error"]}. */
    static PyTorchBaseline parse(String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text.strip().lines().reduce((first, last) -> last).orElse(""));
        } catch (IOException e) {
            return unavailable("unreadable output from the PyTorch script: " + text.strip());
        }
        if (root == null || !root.isObject()) return unavailable("no output from the PyTorch script");
        if (root.has("unavailable")) return unavailable(root.get("unavailable").asText());
        Map<String, Double> micros = new HashMap<>();
        Map<String, String> errors = new HashMap<>();
        if (root.get("results") instanceof ArrayNode results) {
            for (JsonNode r : results) {
                String key = key(r.path("precision").asText(), r.path("m").asInt(), r.path("n").asInt(), r.path("k").asInt());
                if (r.has("us")) micros.put(key, r.get("us").asDouble());
                else errors.put(key, r.path("error").asText("no time"));
            }
        }
        String description = "torch " + root.path("torch").asText("?") + " on " + root.path("device").asText("?");
        return new PyTorchBaseline(true, description, Map.copyOf(micros), Map.copyOf(errors));
    }
}
