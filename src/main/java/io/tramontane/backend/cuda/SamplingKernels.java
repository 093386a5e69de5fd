package io.tramontane.backend.cuda;

import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Dim3;
import io.tramontane.cuda.KernelArgs;
import io.tramontane.cuda.LaunchConfig;
import io.tramontane.cuda.Stream;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.sampling.TokenDraw;
import java.util.List;

/**
 * Launches {@code sample_rows} (cuda-kernels/sampling.cu): one CTA per row of logits draws that row's token as
 * {@link TokenDraw} defines it, from the row's {@link DrawRequest} uploaded as {@link #PARAMS} doubles.
 */
final class SamplingKernels {
    /** The kernel's block size and dynamic shared memory (sampling_core.cuh: THREADS, sizeof(Shared)). */
    static final int THREADS = 512, SHARED_BYTES = 7464;
    /** Doubles per row: temperature, top_k, top_p, min_p, uniform. */
    static final int PARAMS = 5;

    private final Launcher sample;

    SamplingKernels(KernelModule module) {
        sample = Launcher.of(module, "sample_rows", 5);
    }

    /** tokens[r] = the token drawn from row r of logits with the parameters of row r. */
    void launch(Stream stream, CudaActivation logits, DeviceBuffer params, DeviceBuffer tokens) {
        sample.launch(stream, config(logits.rows()), args -> arguments(args, logits, params, tokens));
    }

    static LaunchConfig config(int rows) {
        Launcher.requirePositive("sampled rows", rows);
        return new LaunchConfig(Dim3.of(rows), Dim3.of(THREADS), SHARED_BYTES);
    }

    static KernelArgs arguments(KernelArgs args, CudaActivation logits, DeviceBuffer params, DeviceBuffer tokens) {
        Launcher.requirePositive("sampled logits shape", logits.rows(), logits.cols());
        requireVocabulary(logits.cols());
        params.requireBytes(Math.multiplyExact((long) logits.rows(), PARAMS * (long) Double.BYTES), "draw parameters");
        Launcher.requireInts(tokens, logits.rows(), "sampled token ids");
        return args.clear().pointer(logits.data()).i32(logits.cols()).i32(logits.cols()).pointer(params).pointer(tokens);
    }

    static void requireVocabulary(int vocab) {
        if (vocab > TokenDraw.MAX_VOCAB) {
            throw new IllegalArgumentException("sampling over " + vocab + " logits: at most " + TokenDraw.MAX_VOCAB
                    + " (the weights' 64-bit sums)");
        }
    }

    /** The draws as the kernel reads them: PARAMS little-endian doubles per row, as pairs of ints (low word first). */
    static int[] parameters(List<DrawRequest> draws) {
        int[] words = new int[draws.size() * PARAMS * 2];
        for (int r = 0; r < draws.size(); r++) {
            DrawRequest d = draws.get(r);
            double[] row = {d.temperature(), d.topK(), d.topP(), d.minP(), d.uniform()};
            for (int j = 0; j < PARAMS; j++) {
                long bits = Double.doubleToRawLongBits(row[j]);
                words[2 * (r * PARAMS + j)] = (int) bits;
                words[2 * (r * PARAMS + j) + 1] = (int) (bits >>> 32);
            }
        }
        return words;
    }
}
