package io.tramontane.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.tramontane.backend.Activation;
import io.tramontane.backend.AttentionBatch;
import io.tramontane.backend.Backend;
import io.tramontane.backend.ExpertRoutes;
import io.tramontane.backend.KvCache;
import io.tramontane.backend.KvCacheDtype;
import io.tramontane.backend.TrialPolicy;
import io.tramontane.backend.Weight;
import io.tramontane.cuda.Cuda;
import io.tramontane.cuda.CudaContext;
import io.tramontane.cuda.CudaDriver;
import io.tramontane.cuda.DeviceArena;
import io.tramontane.cuda.DeviceBuffer;
import io.tramontane.cuda.Stream;
import io.tramontane.sampling.DrawRequest;
import io.tramontane.weights.KvCacheScales;
import io.tramontane.weights.Linear;
import io.tramontane.weights.Progress;
import io.tramontane.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;

/**
 * The CUDA backend, one tensor-parallel rank (ranks meet in NCCL): FP32 activations in device memory, weights
 * uploaded once in their stored dtype, our own kernels (cuda-kernels/) enqueued in order on the backend's own
 * stream, decode-sized steps captured and launched as CUDA graphs ({@link StepGraphs}); the host waits only where
 * it reads results back (sampled ids, logits). Semantics are CpuBackend's, op for op. Use from one thread at a
 * time; the context is made current on whichever thread calls.
 */
public final class CudaBackend implements Backend {
    /** The environment variable that sets {@link Options#cudaGraphs}. */
    static final String GRAPHS_VARIABLE = "TRAMONTANE_CUDA_GRAPHS";

    /**
     * @param device              CUDA device ordinal
     * @param staticActivationFp8 as in CpuBackend.Options: FP8 linears with an activation scale quantize inputs (w8a8)
     * @param activationBudget    device bytes of activations held before unreachable ones are collected first
     * @param kvCache             how cached keys and values are stored: BF16 or FP8 e4m3 (tensor-core attention) or F32
     * @param tensorCoreLinears   prefill BF16/FP8 linears on tensor cores where the device has the kernel (sm_90:
     *                            activations rounded to BF16 or e4m3, TensorCoreGemm); false keeps FP32 activations in
     *                            every linear (the golden checks' exact path)
     * @param cudaGraphs          whether decode steps run as CUDA graphs ({@link StepGraphs}): as measured (AUTO, unless
     *                            TRAMONTANE_CUDA_GRAPHS says otherwise), always or never
     */
    public record Options(int device, boolean staticActivationFp8, long activationBudget, KvCacheDtype kvCache,
                          boolean tensorCoreLinears, TrialPolicy cudaGraphs) {
        /** Tensor-core linears where available, CUDA graphs as TRAMONTANE_CUDA_GRAPHS says (AUTO by default). */
        public Options(int device, boolean staticActivationFp8, long activationBudget, KvCacheDtype kvCache) {
            this(device, staticActivationFp8, activationBudget, kvCache, true, TrialPolicy.fromEnvironment(GRAPHS_VARIABLE));
        }

        /** CUDA graphs as TRAMONTANE_CUDA_GRAPHS says (AUTO by default). */
        public Options(int device, boolean staticActivationFp8, long activationBudget, KvCacheDtype kvCache,
                       boolean tensorCoreLinears) {
            this(device, staticActivationFp8, activationBudget, kvCache, tensorCoreLinears, TrialPolicy.fromEnvironment(GRAPHS_VARIABLE));
        }

        /** A BF16 KV cache. */
        public Options(int device, boolean staticActivationFp8, long activationBudget) {
            this(device, staticActivationFp8, activationBudget, KvCacheDtype.BF16);
        }

        public static Options defaults() {
            return new Options(0, true, 2L << 30);
        }
    }

    private static final int NAN_BITS = 0x7fc00000;

    private final Options options;
    private final CudaContext context;
    private final CudaDriver driver;
    private final KernelModule module;
    private final DeviceArena arena;
    private final ActivationPool activations;
    private final WeightUpload weights;
    /** The backend's own stream (blocking: ordered with the legacy stream's synchronous copies); graphs capture it. */
    private final Stream stream;
    private final StepGraphs graphs;
    private final DeviceUpload tokens, rowIndices, cosTable, sinTable, rowScales, attentionPlan, drawUpload;
    private final RmsNormKernel rmsnorm;
    private final EmbeddingKernels embedding;
    private final LinearKernels linear;
    private final ElementwiseKernels elementwise;
    private final RowKernels rowMoves;
    private final RopeKernel rope;
    private final AttentionKernels attention;
    private final CollectiveKernels columnMoves;
    private final NcclCollective collective;  // null: a single rank
    private final SamplingKernels sampling;
    private final SampledIds sampledIds;
    /** Bytes copied device to host by readRow and sample (the GPU check proves sampling moves only ids). */
    private long bytesToHost;
    /** Prefill linears on tensor cores; null where the device is not compute capability 9.0. */
    private final TensorCoreGemm tensorCores;
    private boolean tensorCoresEnabled;
    private final MoeKernels moe;
    private boolean closed;

    /** The context each thread last made current through a backend (several ranks may share a thread). */
    private static final ThreadLocal<CudaContext> CURRENT = new ThreadLocal<>();

    private CudaBackend(Options options, CudaContext context, KernelModule module, NcclGroup group, int rank) {
        this.options = options;
        this.context = context;
        this.driver = context.driver();
        this.module = module;
        this.arena = new DeviceArena(driver);
        this.activations = new ActivationPool(arena, options.activationBudget());
        this.weights = new WeightUpload(driver, arena);
        this.rmsnorm = new RmsNormKernel(module);
        this.embedding = new EmbeddingKernels(module);
        this.linear = new LinearKernels(module, context.device().multiprocessors());
        this.elementwise = new ElementwiseKernels(module);
        this.rowMoves = new RowKernels(module);
        this.rope = new RopeKernel(module);
        this.attention = new AttentionKernels(module, context.device().multiprocessors());
        this.columnMoves = new CollectiveKernels(module);
        this.stream = driver.streamCreate(0);
        List<DeviceUpload> uploads = new ArrayList<>();
        this.graphs = new StepGraphs(StepGraphs.Driver.of(driver, stream), new GraphChoice(options.cudaGraphs(), System::nanoTime),
                () -> uploads.forEach(DeviceUpload::forget));
        this.tokens = newUpload(uploads);
        this.rowIndices = newUpload(uploads);
        this.cosTable = newUpload(uploads);
        this.sinTable = newUpload(uploads);
        this.rowScales = newUpload(uploads);
        this.attentionPlan = newUpload(uploads);
        this.drawUpload = newUpload(uploads);
        this.collective = group == null ? null
                : new NcclCollective(group, rank, driver, arena, activations, columnMoves, graphs::flush);
        this.sampling = new SamplingKernels(module);
        this.sampledIds = new SampledIds(driver, arena);
        this.tensorCores = TensorCoreGemm.supports(context.device()) ? new TensorCoreGemm(module, arena) : null;
        this.tensorCoresEnabled = options.tensorCoreLinears();
        this.moe = new MoeKernels(module);
        CURRENT.set(context);  // open made it current on this thread
    }

    /** One of the per-call uploads on this backend's stream; a capture dropped unlaunched makes them all forget. */
    private DeviceUpload newUpload(List<DeviceUpload> uploads) {
        DeviceUpload upload = new DeviceUpload(driver, arena, stream, graphs::flush);
        uploads.add(upload);
        return upload;
    }

    /**
     * Opens device {@code options.device()} and loads the kernels. Without a usable driver this fails with an
     * IllegalStateException naming the probe's reason ("CUDA unavailable: libcuda.so.1 not found ..."); a jar built
     * without nvcc fails with one naming the missing fatbin; driver errors are CudaExceptions.
     */
    public static CudaBackend open(Options options) {
        return open(options, null, 0);
    }

    /**
     * Rank {@code rank} of a tensor-parallel group: device {@code rank}, collectives through the group's NCCL
     * communicator (which this backend releases when it closes).
     */
    public static CudaBackend openRank(Options options, NcclGroup group, int rank) {
        if (rank < 0 || rank >= group.ranks()) throw new IllegalArgumentException("rank " + rank + " of " + group.ranks());
        if (options.device() != group.comm(rank).device()) {
            throw new IllegalArgumentException("rank " + rank + " runs on device " + group.comm(rank).device()
                    + ", options name device " + options.device());
        }
        return open(options, group, rank);
    }

    private static CudaBackend open(Options options, NcclGroup group, int rank) {
        CudaDriver driver = Cuda.driver();
        CudaContext context = CudaContext.open(driver, options.device());
        KernelModule module = null;
        try {
            module = KernelModule.load(driver);
            return new CudaBackend(options, context, module, group, rank);
        } catch (RuntimeException e) {
            if (module != null) module.close();
            context.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** Counts the bytes of weights uploaded from now on (the load's progress bar). */
    public void reportUploadsTo(Progress progress) {
        weights.reportTo(progress);
    }

    @Override
    public Activation allocate(int rows, int cols) {
        enter();
        return activations.allocate(rows, cols);
    }

    @Override
    public Weight weight(Tensor tensor) {
        enter();
        graphs.flush();  // uploads copy synchronously
        return weights.upload(tensor, 1f, Float.NaN, tensor.rows() == 1);  // vectors (norm gains) as FP32
    }

    @Override
    public Weight linear(Linear linear) {
        enter();
        graphs.flush();
        float activationScale = options.staticActivationFp8() ? linear.activationScale() : Float.NaN;
        return weights.upload(linear.weight(), linear.weightScale(), activationScale, false);
    }

    @Override
    public KvCache allocateKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim) {
        return allocateKvCache(layers, blocks, blockSize, kvHeads, headDim, options.kvCache());
    }

    /** A cache of the options' dtype; an FP8 one divides K and V by the checkpoint's {@code scales}. */
    @Override
    public KvCache allocateKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim, KvCacheScales scales) {
        return allocateKvCache(layers, blocks, blockSize, kvHeads, headDim, options.kvCache(), scales);
    }

    /** A cache of the given dtype whatever the options say (the GPU checks' FP32 references); FP8 scales of 1. */
    KvCache allocateKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim, KvCacheDtype dtype) {
        return allocateKvCache(layers, blocks, blockSize, kvHeads, headDim, dtype, KvCacheScales.ones(layers));
    }

    /** A cache of the given dtype with explicit per-layer K and V scales (used by an FP8 cache: calibrated ones). */
    public KvCache allocateKvCache(int layers, int blocks, int blockSize, int kvHeads, int headDim, KvCacheDtype dtype,
                                   KvCacheScales scales) {
        enter();
        return new CudaKvCache(arena, layers, blocks, blockSize, kvHeads, headDim, dtype, scales);
    }

    @Override
    public void embed(Weight table, int[] ids, Activation out) {
        enter();
        CudaWeight w = CudaWeight.of(table);
        CudaActivation o = CudaActivation.of(out);
        for (int id : ids) {
            if (id < 0 || id >= w.rows()) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + w.rows() + ")");
            }
        }
        if (o.rows() != ids.length || o.cols() != w.cols()) {
            throw new IllegalArgumentException("embedding of " + ids.length + " tokens into [" + o.rows() + ", " + o.cols() + "]");
        }
        if (ids.length == 0) return;
        graphs.begin(ids.length);  // the first op of a forward: a decode-sized step is captured from here
        embedding.launch(stream, w, tokens.ints(ids), ids.length, o.data());
    }

    @Override
    public void rmsNorm(Activation x, Weight gain, float eps, Activation out) {
        enter();
        CudaActivation in = CudaActivation.of(x), o = CudaActivation.of(out);
        CudaWeight g = CudaWeight.of(gain);
        if (g.format() != WeightFormat.F32 || g.rows() != 1) throw new IllegalArgumentException("norm gain must be an FP32 vector: " + g);
        if (in.rows() == 0) return;
        rmsnorm.launch(stream, in.data(), g.data().slice(0, in.cols() * (long) Float.BYTES), o.data(), in.rows(), in.cols(), eps);
    }

    @Override
    public void linear(Activation x, Weight weight, Activation out) {
        enter();
        CudaActivation in = CudaActivation.of(x), o = CudaActivation.of(out);
        CudaWeight w = CudaWeight.of(weight);
        requireLinearShape(w, in, o);
        int n = in.rows();
        if (n == 0) return;
        if (usesTensorCores(w, n)) {  // converts (and for w8a8 quantizes) the input itself
            tensorCores.launch(stream, in.data(), w, o.data(), n);
            return;
        }
        CudaActivation input = in;
        float scale = w.weightScale();
        if (w.quantizesActivations()) {  // static w8a8: e4m3(x / s) first, s folded into the output scale
            input = activations.allocate(n, in.cols());
            elementwise.quantizeE4m3(stream, in.data(), input.data(), w.activationScale(), in.elements());
            scale *= w.activationScale();
        }
        linear.launch(stream, input.data(), w, o.data(), n, scale);
        Reference.reachabilityFence(input);
    }

    /**
     * Decode batches (up to {@link LinearKernels#GEMV_MAX_TOKENS} tokens) of up to three linears of one format and width,
     * none quantizing its input (static w8a8), go to one gemv launch, without the launches' gaps and tails (k and v of
     * Devstral Small, 5 MB each, ran at 20% of the read bandwidth alone). Each row is summed as a gemv sums it, with the
     * warps per row chosen for all the launch's rows, so a group's bits depend only on the group, not on the batch.
     * Anything else: {@link #linear} each.
     */
    @Override
    public void linears(Activation x, Weight[] weights, Activation[] outs) {
        enter();
        CudaActivation in = CudaActivation.of(x);
        int n = in.rows();
        if (weights.length != outs.length) throw new IllegalArgumentException(weights.length + " weights for " + outs.length + " outputs");
        boolean together = n >= 1 && n <= LinearKernels.GEMV_MAX_TOKENS && weights.length > 1
                && weights.length <= LinearKernels.GEMV_WEIGHTS;
        CudaWeight[] ws = new CudaWeight[weights.length];
        DeviceBuffer[] ys = new DeviceBuffer[weights.length];
        float[] scales = new float[weights.length];
        for (int i = 0; i < weights.length && together; i++) {
            ws[i] = CudaWeight.of(weights[i]);
            CudaActivation o = CudaActivation.of(outs[i]);
            requireLinearShape(ws[i], in, o);
            together = !ws[i].quantizesActivations() && ws[i].format() == ws[0].format() && ws[i].stride() == ws[0].stride();
            ys[i] = o.data();
            scales[i] = ws[i].weightScale();
        }
        if (!together) {
            Backend.super.linears(x, weights, outs);
            return;
        }
        linear.launchGemv(stream, in.data(), ws, ys, scales, n);
    }

    @Override
    public void rope(Activation x, int headDim, float[] cos, float[] sin) {
        enter();
        CudaActivation a = CudaActivation.of(x);
        if (a.rows() == 0) return;
        int count = a.rows() * (headDim / 2);
        if (cos.length < count || sin.length < count) {
            throw new IllegalArgumentException("rope tables of " + cos.length + "/" + sin.length + " for " + count + " angles");
        }
        rope.launch(stream, a.data(), cosTable.floats(cos, count), sinTable.floats(sin, count), a.rows(), a.cols(), headDim);
    }

    @Override
    public void scaleRows(Activation x, float[] scale) {
        enter();
        CudaActivation a = CudaActivation.of(x);
        if (a.elements() == 0) return;
        if (scale.length < a.rows()) throw new IllegalArgumentException(scale.length + " row scales for " + a.rows() + " rows");
        elementwise.scaleRows(stream, a.data(), rowScales.floats(scale, a.rows()), a.rows(), a.cols());
    }

    @Override
    public void attention(Activation q, Activation k, Activation v, KvCache cache, int layer, AttentionBatch batch,
                          float scale, Activation out) {
        enter();
        CudaActivation qa = CudaActivation.of(q), ka = CudaActivation.of(k), va = CudaActivation.of(v), o = CudaActivation.of(out);
        if (!(cache instanceof CudaKvCache kv)) throw new IllegalArgumentException("not a CUDA KV cache: " + cache);
        if (layer < 0 || layer >= kv.keys.length) throw new IllegalArgumentException("layer " + layer + " of " + kv.keys.length);
        var pools = AttentionKernels.Pools.of(kv, layer);
        AttentionPlan plan = attention.plan(batch, qa.rows(), pools, qa.cols() / kv.headDim);
        if (plan.items() == 0) return;
        var buffers = AttentionKernels.PlanBuffers.of(plan, attentionPlan.ints(plan.packed()));
        CudaActivation partialO = null, partialMaxSum = null;  // split decode rows' partial results
        if (plan.partialSlots() > 0) {
            partialO = activations.allocate(plan.partialSlots(), qa.cols());
            partialMaxSum = activations.allocate(plan.partialSlots(), 2 * (qa.cols() / kv.headDim));
        }
        var partials = partialO == null ? null : new AttentionKernels.Partials(partialO.data(), partialMaxSum.data());
        attention.run(stream, AttentionKernels.launches(plan, buffers, pools, qa, ka, va, o, partials, scale));
        Reference.reachabilityFence(partialO);  // back to the pool only once the launches are enqueued
        Reference.reachabilityFence(partialMaxSum);
    }

    @Override
    public void swiglu(Activation gate, Activation up) {
        enter();
        CudaActivation g = CudaActivation.of(gate), u = CudaActivation.of(up);
        requireSameShape(g, u);
        if (g.elements() > 0) elementwise.swiglu(stream, g.data(), u.data(), g.elements());
    }

    @Override
    public void zero(Activation x) {
        enter();
        CudaActivation a = CudaActivation.of(x);
        if (a.elements() > 0) driver.memsetD32Async(a.data(), 0, stream);
    }

    @Override
    public void add(Activation x, Activation y) {
        enter();
        CudaActivation a = CudaActivation.of(x), b = CudaActivation.of(y);
        requireSameShape(a, b);
        if (a.elements() > 0) elementwise.add(stream, a.data(), b.data(), a.elements());
    }

    @Override
    public void gatherRows(Activation src, int[] rows, Activation dst) {
        enter();
        CudaActivation s = CudaActivation.of(src), d = CudaActivation.of(dst);
        requireRows(rows, s.rows(), "gather");
        if (rows.length == 0 || d.cols() == 0) return;
        rowMoves.gather(stream, s, rowIndices.ints(rows), rows.length, d);
    }

    // ---- Mixture of experts: routing, permutation and grouped linears on the device (moe.cu), no host read-back

    @Override
    public Weight experts(List<Linear> projections) {
        enter();
        graphs.flush();
        List<CudaWeight> experts = projections.stream().map(p -> CudaWeight.of(linear(p))).toList();
        CudaExperts.Tables tables = CudaExperts.tables(experts);
        try (Arena host = Arena.ofConfined()) {
            DeviceBuffer pointers = arena.allocate(tables.pointers().length * (long) Long.BYTES);
            driver.copyToDevice(pointers, host.allocateFrom(JAVA_LONG, tables.pointers()));
            return new CudaExperts(experts, pointers, upload(host, tables.activationScales()), upload(host, tables.outScales()));
        }
    }

    private DeviceBuffer upload(Arena host, float[] values) {
        DeviceBuffer buffer = arena.allocate(values.length * (long) Float.BYTES);
        driver.copyToDevice(buffer, host.allocateFrom(JAVA_FLOAT, values));
        return buffer;
    }

    @Override
    public ExpertRoutes routeExperts(Activation routerLogits, int topK) {
        enter();
        CudaActivation logits = CudaActivation.of(routerLogits);
        MoeKernels.requireRouting(logits.rows(), logits.cols(), topK);
        CudaActivation storage = activations.allocate(1, CudaExpertRoutes.words(logits.rows(), topK, logits.cols()));
        CudaExpertRoutes routes = CudaExpertRoutes.in(storage, logits.rows(), topK, logits.cols());
        if (routes.tokens() > 0) MoeKernels.routing(logits, routes).forEach(launch -> moe.run(stream, launch));
        return routes;
    }

    @Override
    public void gatherRouted(Activation x, ExpertRoutes routes, Activation xSorted) {
        enter();
        CudaActivation in = CudaActivation.of(x);
        if (routes.tokens() > 0 && in.cols() > 0) {
            moe.run(stream, MoeKernels.gather(in, CudaExpertRoutes.of(routes), CudaActivation.of(xSorted)));
        }
    }

    @Override
    public void expertLinear(Activation xSorted, Weight experts, ExpertRoutes routes, Activation out) {
        enter();
        CudaExpertRoutes r = CudaExpertRoutes.of(routes);
        if (r.tokens() > 0) {
            moe.run(stream, MoeKernels.linear(CudaActivation.of(xSorted), CudaExperts.of(experts), r, CudaActivation.of(out)));
        }
    }

    @Override
    public void combineRouted(Activation ySorted, ExpertRoutes routes, Activation out) {
        enter();
        CudaActivation o = CudaActivation.of(out);
        if (routes.tokens() > 0 && o.cols() > 0) {
            moe.run(stream, MoeKernels.combine(CudaActivation.of(ySorted), CudaExpertRoutes.of(routes), o));
        }
    }

    @Override
    public void allReduceSum(Activation x) {
        enter();
        CudaActivation a = CudaActivation.of(x);
        if (collective == null || a.elements() == 0) return;  // one rank: the sum is x itself
        collective.allReduceSum(a, stream);
    }

    @Override
    public void allGatherColumns(Activation part, Activation whole) {
        enter();
        CudaActivation p = CudaActivation.of(part), w = CudaActivation.of(whole);
        if (collective == null) {
            requireSameShape(p, w);  // one rank: the whole is its part
            if (p.elements() > 0) columnMoves.pad(stream, p.data(), w.data(), p.rows(), p.cols(), p.cols());
            return;
        }
        if (p.rows() == 0) return;
        collective.allGatherColumns(p, w, stream);
    }

    /** Launches the step captured so far as a CUDA graph ({@link StepGraphs}); a no-op when none is. */
    @Override
    public void submit() {
        enter();
        graphs.flush();
    }

    @Override
    public void readRow(Activation x, int row, float[] dst) {
        enter();
        CudaActivation a = CudaActivation.of(x);
        if (row < 0 || row >= a.rows()) throw new IndexOutOfBoundsException("row " + row + " of " + a.rows());
        long bytes = a.cols() * (long) Float.BYTES;
        if (bytes == 0) return;
        graphs.flush();
        try (Arena host = Arena.ofConfined()) {
            MemorySegment segment = host.allocate(bytes, Float.BYTES);
            driver.copyToHost(segment, a.data().slice(row * bytes, bytes));  // ordered after the kernels that wrote it
            MemorySegment.copy(segment, JAVA_FLOAT, 0, dst, 0, a.cols());
        }
        bytesToHost += bytes;
    }

    /**
     * Draws on the device (sample_rows, one CTA per row): the draws go up asynchronously behind the forward, and the
     * copy of the ids back is the step's only wait.
     */
    @Override
    public int[] sample(Activation logits, List<DrawRequest> draws) {
        enter();
        CudaActivation a = CudaActivation.of(logits);
        if (draws.size() != a.rows()) throw new IllegalArgumentException(draws.size() + " draws for " + a.rows() + " rows of logits");
        if (a.rows() == 0) return new int[0];
        enqueueSample(a, draws, sampledIds.ids(a.rows()));
        graphs.flush();  // the step's graph runs now; reading the ids waits for it
        int[] tokens = sampledIds.read(a.rows());
        bytesToHost += tokens.length * (long) Integer.BYTES;
        return tokens;
    }

    /**
     * Enqueues sample_rows: {@code ids[r]} (int32) becomes row r's token (the GPU check passes a poisoned buffer). The
     * staged draws are reused by the next call, so read the ids (or synchronise) before calling again.
     */
    void enqueueSample(CudaActivation logits, List<DrawRequest> draws, DeviceBuffer ids) {
        enter();
        if (draws.size() != logits.rows()) {
            throw new IllegalArgumentException(draws.size() + " draws for " + logits.rows() + " rows of logits");
        }
        SamplingKernels.requireVocabulary(logits.cols());
        sampling.launch(stream, logits, drawUpload.ints(SamplingKernels.parameters(draws)), ids);
    }

    /** CUDA graphs launched, executables updated in place and instantiated so far ({@link StepGraphs}). */
    long[] graphCounts() {
        return graphs.counts();
    }

    /** Bytes copied device to host by readRow and sample so far. */
    long bytesToHost() {
        return bytesToHost;
    }

    /** True when {@link #linear} of {@code m} tokens over {@code w} runs on tensor cores (TensorCoreGemm). */
    boolean usesTensorCores(CudaWeight w, int m) {
        return tensorCores != null && tensorCoresEnabled && TensorCoreGemm.serves(w, m);
    }

    /**
     * The GPU checks: only the input conversion {@link #linear} of {@code x} over {@code weight} runs first on tensor
     * cores (BF16 rounding or e4m3 quantization), to tell its time from the GEMM's.
     */
    void convertTensorCoreInput(Activation x, Weight weight) {
        enter();
        CudaActivation in = CudaActivation.of(x);
        CudaWeight w = CudaWeight.of(weight);
        if (!usesTensorCores(w, in.rows())) throw new IllegalStateException("no tensor-core linear for " + in.rows() + " rows");
        tensorCores.convert(stream, in.data(), w, in.rows());
    }

    /** True on a compute capability 9.0 device: prefill BF16 and FP8 linears run on tensor cores (when enabled). */
    boolean hasTensorCoreGemm() {
        return tensorCores != null;
    }

    /**
     * The GPU checks: false sends every linear to linear_gemv/gemm_* (the FP32-activation kernels), true back to tensor
     * cores where the device has them. Returns the previous setting.
     */
    boolean useTensorCores(boolean enabled) {
        boolean previous = tensorCoresEnabled;
        tensorCoresEnabled = enabled;
        return previous;
    }

    /** Copies {@code values} (rows * cols floats) into {@code x} (the GPU checks' inputs). */
    void write(Activation x, float[] values) {
        enter();
        CudaActivation a = CudaActivation.of(x);
        if (values.length != a.elements()) throw new IllegalArgumentException(values.length + " values for " + a.elements());
        if (values.length == 0) return;
        graphs.flush();
        try (Arena host = Arena.ofConfined()) {
            driver.copyToDevice(a.data(), host.allocateFrom(JAVA_FLOAT, values));
        }
    }

    /** Device time of the work {@code ops} enqueues, by CUDA events on the backend's stream. */
    double timeMicros(Runnable ops) {
        enter();
        var start = driver.eventCreate();
        var end = driver.eventCreate();
        try {
            graphs.flush();
            driver.eventRecord(start, stream);
            ops.run();
            graphs.flush();  // ops that began a captured step: the graph is what is timed
            driver.eventRecord(end, stream);
            driver.eventSynchronize(end);
            return driver.eventElapsedMillis(start, end) * 1000.0;
        } finally {
            driver.eventDestroy(start);
            driver.eventDestroy(end);
        }
    }

    /** The all-gather's layout kernels (the GPU checks run them on uneven parts without a second device). */
    CollectiveKernels columnMoves() {
        return columnMoves;
    }

    /** Fills the activation and its guard with NaN (the GPU checks' poisoning). */
    void poison(Activation x) {
        enter();
        driver.memsetD32Async(CudaActivation.of(x).allocation(), NAN_BITS, stream);
    }

    /** The activation's guard bytes, as written after it: untouched means every float is the poison NaN. */
    boolean guardIntact(Activation x) {
        enter();
        CudaActivation a = CudaActivation.of(x);
        DeviceBuffer guard = a.allocation().slice(a.data().bytes(), a.allocation().bytes() - a.data().bytes());
        graphs.flush();
        try (Arena host = Arena.ofConfined()) {
            MemorySegment segment = host.allocate(guard.bytes(), Float.BYTES);
            driver.copyToHost(segment, guard);
            for (long i = 0; i < guard.bytes(); i += Float.BYTES) {
                if (segment.get(java.lang.foreign.ValueLayout.JAVA_INT, i) != NAN_BITS) return false;
            }
            return true;
        }
    }

    @Override
    public void close() {
        if (closed) return;
        enter();
        closed = true;
        try (context; module; arena; graphs) {
            graphs.flush();
            driver.contextSynchronize();
            if (collective != null) collective.close();
            driver.streamDestroy(stream);
        }
    }

    /** Makes the context current on a thread that has not used this backend yet (the engine thread, say). */
    private void enter() {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        if (CURRENT.get() != context) {
            context.makeCurrent();
            CURRENT.set(context);
        }
    }

    private static void requireLinearShape(CudaWeight w, CudaActivation in, CudaActivation out) {
        if (w.cols() != in.cols() || w.rows() != out.cols() || out.rows() != in.rows()) {
            throw new IllegalArgumentException("linear [" + w.rows() + ", " + w.cols() + "]: input [" + in.rows() + ", " + in.cols()
                    + "], output [" + out.rows() + ", " + out.cols() + "]");
        }
    }

    private static void requireSameShape(CudaActivation a, CudaActivation b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException("shapes differ: [" + a.rows() + ", " + a.cols() + "] and [" + b.rows() + ", " + b.cols() + "]");
        }
    }

    private static void requireRows(int[] rows, int limit, String what) {
        for (int r : rows) if (r < 0 || r >= limit) throw new IndexOutOfBoundsException(what + " row " + r + " of " + limit);
    }
}
