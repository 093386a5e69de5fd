// Prefill and decode speed of llama.cpp (through node-llama-cpp's prebuilt CPU binaries) on a GGUF from make-gguf.mjs,
// measured as `./tramontane bench prefill|decode` measures Tramontane: random token ids, a timed 512-token prompt,
// then greedy decode steps after a warm-up, from a context of `depth` positions (llama-bench's -d; KV cache in F16,
// llama.cpp's default), flash attention auto (llama.cpp's choice, node-llama-cpp's default), on or off. prompt=0 skips
// the prefill runs.
// usage: node bench.mjs MODEL.gguf [threads=2] [prompt=512] [decodeTokens=32] [runs=2] [depth=16] [flash=auto|on|off]
import { getLlama } from "node-llama-cpp";

const [modelPath, threadsArg = "2", promptArg = "512", decodeArg = "32", runsArg = "2", depthArg = "16", flashArg = "auto"] =
    process.argv.slice(2);
const threads = Number(threadsArg), promptTokens = Number(promptArg), decodeTokens = Number(decodeArg), runs = Number(runsArg);
const depth = Number(depthArg), flashAttention = flashArg === "auto" ? "auto" : flashArg === "on";
const llama = await getLlama({ gpu: false, maxThreads: threads, logLevel: "error" });
const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
const vocab = 32768;  // make-gguf.mjs's default shape; ids 259.. are plain pieces
let seed = 12345;
const randomIds = n => Array.from({ length: n }, () => 259 + ((seed = (seed * 1103515245 + 12345) >>> 0) % (vocab - 259)));

const prefill = [];
for (let r = 0; promptTokens > 0 && r < runs + 1; r++) {  // the first run warms up
    const context = await model.createContext({ contextSize: promptTokens + decodeTokens + 64, batchSize: promptTokens, threads });
    const sequence = context.getSequence();
    const t0 = process.hrtime.bigint();
    await sequence.evaluateWithoutGeneratingNewTokens(randomIds(promptTokens));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r > 0) prefill.push(promptTokens / seconds);
    await context.dispose();
}

const context = await model.createContext({ contextSize: depth + 8 + decodeTokens + 64, batchSize: Math.min(depth, 512), threads,
    flashAttention });
const sequence = context.getSequence();
const steps = [];
let token = randomIds(1)[0];
await sequence.evaluateWithoutGeneratingNewTokens(randomIds(depth));
let count = 0;
let last = process.hrtime.bigint();
for await (const next of sequence.evaluate([token], { temperature: 0 })) {
    const now = process.hrtime.bigint();
    if (count >= 8) steps.push(Number(now - last) / 1e9);  // 8 warm-up steps
    last = now;
    if (++count >= 8 + decodeTokens) break;
}
steps.sort((a, b) => a - b);
const median = steps[steps.length >> 1];
console.log(JSON.stringify({
    model: modelPath, threads, llamaCpp: "node-llama-cpp 3.22.1 prebuilt CPU binaries",
    prefillTokensPerSecond: prefill.map(v => Math.round(v * 10) / 10),
    decodeTokensPerSecond: Math.round(10 / median) / 10, decodeSteps: steps.length, decodeDepth: depth, flashAttention: flashArg,
}));
await context.dispose();
await model.dispose();
await llama.dispose();
