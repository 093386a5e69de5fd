package io.tramontane.api;

import io.tramontane.backend.cpu.CpuWeights;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.demo.DemoModel;
import io.tramontane.engine.Engine;
import io.tramontane.engine.EngineStats;
import io.tramontane.engine.StepObserver;
import io.tramontane.engine.Generation;
import io.tramontane.engine.GenerationRequest;
import io.tramontane.engine.JitSettle;
import io.tramontane.engine.ModelFactory;
import io.tramontane.engine.TextStream;
import io.tramontane.engine.TokenEvent;
import io.tramontane.model.ModelConfig;
import io.tramontane.sampling.SamplingParams;
import io.tramontane.sampling.TokenConstraint;
import io.tramontane.tokenizer.SpecialTokenPolicy;
import io.tramontane.tokenizer.Tekken;
import io.tramontane.tokenizer.instruct.ChatRequest;
import io.tramontane.tokenizer.instruct.InstructEncoder;
import io.tramontane.weights.Checkpoint;
import io.tramontane.weights.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * The library entry point: a loaded model with its tokenizer and engine. Thread-safe; many requests
 * may run at once. {@link #close()} stops the engine and unmaps the checkpoint.
 *
 * <pre>{@code
 * try (Tramontane model = Tramontane.open("demo", Tramontane.Options.defaults())) {
 *     int[] prompt = model.chatPrompt(ChatRequest.fromJson("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}"));
 *     model.generate(prompt, SamplingParams.greedy(32), event -> System.out.print(event.text()));
 * }
 * }</pre>
 */
public final class Tramontane implements AutoCloseable {

    /**
     * @param threads             CPU threads in total
     * @param tensorParallel      ranks (CPU: in-process)
     * @param kvCacheBytes        memory for the KV cache of all sequences together (per device on CUDA), or 0 for
     *                            the default (CPU: what 75% of the machine's memory leaves after the weights and the
     *                            heap; CUDA: what 90% of the device leaves)
     * @param maxSequences        sequences decoded together (max_num_seqs)
     * @param staticActivationFp8 FP8 checkpoints with activation scales run w8a8 (true) or weight-only (false)
     * @param maxBatchedTokens    tokens per step (max_num_batched_tokens): the prefill chunk size under load
     * @param prefixCaching       reuse the KV cache of identical prompt prefixes
     * @param backend             {@code cpu} (default) or {@code cuda} (devices 0 .. tensorParallel-1; not yet validated on a GPU)
     * @param cpuWeights          CPU backend: linears as stored (default), copied at load onto 2 MB pages, or quantized at
     *                            load to q8 / q4
     * @param kvCacheDtype        K/V stored as BF16 (default), F32 (exact: twice the bytes) or, on CUDA, FP8 e4m3 (half
     *                            the bytes; scales of 1)
     */
    public record Options(int threads, int tensorParallel, long kvCacheBytes, int maxSequences,
                          boolean staticActivationFp8, int maxBatchedTokens, boolean prefixCaching, String backend,
                          CpuWeights cpuWeights, KvCacheDtype kvCacheDtype) {
        public Options {
            if (!backend.equals("cpu") && !backend.equals("cuda")) {
                throw new IllegalArgumentException("backend must be cpu or cuda, got '" + backend + "'");
            }
            CpuWeights.requireFor(backend, cpuWeights);
            if (kvCacheBytes < 0) throw new IllegalArgumentException("KV cache bytes must be >= 0 (0: the default), got " + kvCacheBytes);
            KvCacheDtype.requireFor(backend, kvCacheDtype);
        }

        public Options(int threads, int tensorParallel, long kvCacheBytes, int maxSequences, boolean staticActivationFp8) {
            this(threads, tensorParallel, kvCacheBytes, maxSequences, staticActivationFp8, 2048, true, "cpu",
                    CpuWeights.STORED, KvCacheDtype.BF16);
        }

        public Options withBackend(String name) {
            return new Options(threads, tensorParallel, kvCacheBytes, maxSequences, staticActivationFp8, maxBatchedTokens,
                    prefixCaching, name, cpuWeights, kvCacheDtype);
        }

        public Options withCpuWeights(CpuWeights weights) {
            return new Options(threads, tensorParallel, kvCacheBytes, maxSequences, staticActivationFp8, maxBatchedTokens,
                    prefixCaching, backend, weights, kvCacheDtype);
        }

        /** All cores, one rank, the default KV cache (see kvCacheBytes), 16 sequences. */
        public static Options defaults() {
            return new Options(Runtime.getRuntime().availableProcessors(), 1, 0, 16, true);
        }

        public Options withThreads(int n) {
            return new Options(n, tensorParallel, kvCacheBytes, maxSequences, staticActivationFp8, maxBatchedTokens,
                    prefixCaching, backend, cpuWeights, kvCacheDtype);
        }

        public Options withTensorParallel(int n) {
            return new Options(threads, n, kvCacheBytes, maxSequences, staticActivationFp8, maxBatchedTokens,
                    prefixCaching, backend, cpuWeights, kvCacheDtype);
        }

        public Options withKvCacheBytes(long bytes) {
            return new Options(threads, tensorParallel, bytes, maxSequences, staticActivationFp8, maxBatchedTokens,
                    prefixCaching, backend, cpuWeights, kvCacheDtype);
        }

        public Options withKvCacheDtype(KvCacheDtype dtype) {
            return new Options(threads, tensorParallel, kvCacheBytes, maxSequences, staticActivationFp8, maxBatchedTokens,
                    prefixCaching, backend, cpuWeights, dtype);
        }

        public Options withScheduling(int sequences, int batchedTokens, boolean reusePrefixes) {
            return new Options(threads, tensorParallel, kvCacheBytes, sequences, staticActivationFp8, batchedTokens,
                    reusePrefixes, backend, cpuWeights, kvCacheDtype);
        }
    }

    static final int BLOCK_SIZE = 16;

    private final String name;
    private final Checkpoint checkpoint;
    private final Tekken tokenizer;
    private final Engine engine;

    private Tramontane(String name, Checkpoint checkpoint, Tekken tokenizer, Engine engine) {
        this.name = name;
        this.checkpoint = checkpoint;
        this.tokenizer = tokenizer;
        this.engine = engine;
    }

    /** Opens a checkpoint directory, or the embedded demo model for {@code "demo"}. */
    public static Tramontane open(String model, Options options) {
        return open(model, options, bytes -> Progress.silent());
    }

    /**
     * {@link #open(String, Options)}, reporting the upload of weights to a GPU (backend cuda) on the progress
     * {@code uploads} makes for the checkpoint's bytes, e.g. {@code bytes -> Progress.bar(System.err, "uploading", bytes)}.
     */
    public static Tramontane open(String model, Options options, LongFunction<Progress> uploads) {
        if (model.equals("demo")) return open(DemoModel.ensure(DemoModel.defaultCacheRoot()), "demo", options, uploads);
        Path dir = Path.of(model);
        return open(dir, dir.toAbsolutePath().normalize().getFileName().toString(), options, uploads);
    }

    public static Tramontane open(Path dir, String name, Options options) {
        return open(dir, name, options, bytes -> Progress.silent());
    }

    private static Tramontane open(Path dir, String name, Options options, LongFunction<Progress> uploads) {
        Checkpoint checkpoint = Checkpoint.open(dir);
        try {
            Tekken tokenizer = checkpoint.tokenizerFile().map(Tramontane::loadTokenizer).orElse(null);
            ModelConfig config = checkpoint.config();
            int maxContext = (int) Math.min(config.maxPositions() > 0 ? config.maxPositions() : 32768, 1 << 20);
            long wanted = (long) options.maxSequences() * ((maxContext + BLOCK_SIZE - 1) / BLOCK_SIZE);
            int blocks = KvCacheBudget.blocks(config, options.backend(), options.tensorParallel(), options.kvCacheBytes(),
                    checkpoint.fileBytes(), BLOCK_SIZE, wanted, options.kvCacheDtype());
            var factoryOptions = new ModelFactory.Options(options.threads(), options.tensorParallel(), blocks, BLOCK_SIZE,
                    options.staticActivationFp8(), options.cpuWeights());
            int eos = tokenizer != null ? tokenizer.eosId() : 2;
            var model = options.backend().equals("cuda")
                    ? ModelFactory.cuda(checkpoint.weights(), factoryOptions, options.kvCacheDtype(), true,
                            uploads.apply(checkpoint.fileBytes()))
                    : ModelFactory.cpu(checkpoint.weights(), factoryOptions, options.kvCacheDtype());
            Engine engine = new Engine(model, eos,
                    new Engine.Options(options.maxSequences(), maxContext, options.maxBatchedTokens(),
                            options.prefixCaching(), 0));
            return new Tramontane(name, checkpoint, tokenizer, engine);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    private static Tekken loadTokenizer(Path file) {
        try {
            return Tekken.load(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + file, e);
        }
    }

    public String name() {
        return name;
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    public Optional<Tekken> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** Bytes of the checkpoint's weight files. */
    public long weightFileBytes() {
        return checkpoint.fileBytes();
    }

    /**
     * Pages every weight file into memory now, reporting to {@code progress}, so the first requests do not wait
     * on the disk (the CPU backend otherwise reads the mapped files lazily).
     */
    public void preload(Progress progress) {
        checkpoint.load(progress);
    }

    /**
     * Runs a few throw-away prefills (1, 4 and 48 tokens) so the JIT compiles the kernels of every path (decode,
     * small batches, prefill tiles) before the first real request (measured first prefills run 2-3x slower), then
     * one-token forwards until the JIT has nothing left to compile or {@link #SETTLE_LIMIT_NANOS} have passed: C2's
     * compiles take seconds of a core, which early requests would otherwise share ({@link JitSettle}).
     *
     * @return the settling phase's steps, time and whether the JIT was idle at its end
     */
    public JitSettle.Result warmUp() {
        return warmUp(Duration.ofNanos(SETTLE_LIMIT_NANOS));
    }

    /** {@link #warmUp()}, waiting for the JIT at most {@code settleLimit} after the prefills. */
    public JitSettle.Result warmUp(Duration settleLimit) {
        int bos = tokenizer != null ? tokenizer.bosId() : 1;
        for (int length : new int[] {1, 4, 48, 1, 4, 48}) {
            int[] tokens = new int[Math.min(length, Math.max(1, maxContext() - 1))];
            java.util.Arrays.fill(tokens, bos);
            logits(tokens);
        }
        int[] one = {bos};
        return JitSettle.run(() -> logits(one), 1, settleLimit.toNanos());
    }

    /** Longest {@link #warmUp()} waits for the JIT after its prefills. */
    static final long SETTLE_LIMIT_NANOS = 10_000_000_000L;

    /** Queue lengths, KV cache use and prefix-cache hits, for metrics. */
    public EngineStats stats() {
        return engine.stats();
    }

    /** Called after every forward step with its batch size, tokens and duration (on the engine thread). */
    public void observeSteps(StepObserver observer) {
        engine.observeSteps(observer);
    }

    /** Positions one sequence may use (prompt and output together). */
    public int maxContext() {
        return engine.maxContext();
    }

    private Tekken requireTokenizer() {
        if (tokenizer == null) throw new IllegalStateException("model " + name + " has no tekken.json: use token ids");
        return tokenizer;
    }

    /** Plain text to ids (no BOS). */
    public int[] encode(String text) {
        return requireTokenizer().encode(text);
    }

    /** A chat request rendered with the instruct format of the model's tokenizer version (starts with BOS). */
    public int[] chatPrompt(ChatRequest request) {
        return new InstructEncoder(requireTokenizer()).encodePrompt(request);
    }

    /** A streaming detokenizer for one sequence (special tokens dropped), or none without a tokenizer. */
    public TextStream textStream() {
        if (tokenizer == null) return TextStream.NONE;
        var decoder = tokenizer.streamingDecoder(SpecialTokenPolicy.IGNORE);
        return new TextStream() {
            @Override
            public String append(int token) {
                return decoder.accept(token);
            }

            @Override
            public String flush() {
                return decoder.flush();
            }
        };
    }

    /** Starts generating; {@code listener} receives every event (on the engine thread: keep it short). */
    public Generation generate(int[] prompt, SamplingParams sampling, Consumer<TokenEvent> listener) {
        return engine.submit(new GenerationRequest(prompt, sampling, textStream()), listener);
    }

    /** The same, with the output held to {@code constraint} (structured output, forced tool calls; one per request). */
    public Generation generate(int[] prompt, SamplingParams sampling, TokenConstraint constraint, Consumer<TokenEvent> listener) {
        return engine.submit(new GenerationRequest(prompt, sampling, textStream(), constraint), listener);
    }

    /** The logits {@code [tokens.length][vocab]} of one prefill of {@code tokens} (nothing is sampled or kept). */
    public float[][] logits(int[] tokens) {
        try {
            return engine.logits(tokens).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for logits", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** The same as a {@link Flow.Publisher}: one generation per subscriber; cancelling the subscription stops it. */
    public Flow.Publisher<TokenEvent> stream(int[] prompt, SamplingParams sampling) {
        return subscriber -> new TokenSubscription(subscriber, listener -> generate(prompt, sampling, listener));
    }

    @Override
    public void close() {
        engine.close();
        checkpoint.close();
    }
}
