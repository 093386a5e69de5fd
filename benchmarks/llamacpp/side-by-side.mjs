// Tramontane and llama.cpp on the same synthetic shape, same bytes per parameter, same threads, in turn for a few
// rounds (this VM's speed drifts by tens of percent within minutes, so only interleaved runs compare):
//   BF16 prefill (512 tokens) and decode; Tramontane FP8 e4m3 and q8 (1 and 1.125 bytes/weight) against Q8_0 (1.0625);
//   BF16 and FP8 decode also with --cpu-weights copied (the same bytes on 2 MB pages; llama.cpp maps its GGUF on 4 KB);
//   Tramontane q4 (0.625, int8 activations) against Q4_0 (0.5625), the format it mirrors, and Q4_K_M (issue #9's figure;
//   ~0.6 bytes/weight here: Q4_K with Q6_K where llama-quantize puts it, written by make-gguf.mjs).
// With depth > 0 it runs BF16 decode only, after a context of that many positions (llama-bench's -d): llama.cpp's F16
// KV cache, flash attention as llama.cpp chooses (on, here) and off, against Tramontane's BF16 and F32 caches
// (--context, --kv-cache-dtype).
// usage: node side-by-side.mjs [rounds=3] [threads=2] [depth=0]   (run.sh installs llama.cpp and writes the GGUFs first)
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const [roundsArg = "3", threadsArg = "2", depthArg = "0"] = process.argv.slice(2);
const rounds = Number(roundsArg), threads = threadsArg, depth = Number(depthArg);
const cache = join(process.env.TRAMONTANE_CACHE ?? join(process.env.HOME, ".cache", "tramontane"), "llamacpp");
const shape = "dim=2048,layers=16,heads=32,kv_heads=8,head_dim=64,hidden=5632,vocab=32768";

function run(command, args) {
    const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
}
const tramontane = (kind, dtype, extra = []) => run(join(root, "tramontane"), ["bench", kind, "--shape", shape, "--dtype", dtype,
    "--threads", threads, "--json", ...(kind === "prefill" ? ["--prompt", "512", "--runs", "2"] : ["--tokens", "32"]), ...extra]);
const llamaCpp = gguf => run("node", [join(here, "bench.mjs"), join(cache, gguf), threads, "512", "32", "2"]);

const rows = {};
const add = (name, value) => (rows[name] ??= []).push(value);
const median = v => [...v].sort((a, b) => a - b)[v.length >> 1];
const fmt = v => v.map(x => x.toFixed(1)).join(" / ");
const table = title => {
    console.log(`| ${title} (${threads} threads, ${new Date().toISOString().slice(0, 16)}Z) | rounds, tok/s | median |`);
    console.log("|---|---|---|");
    for (const [name, values] of Object.entries(rows)) console.log(`| ${name} | ${fmt(values)} | ${median(values).toFixed(1)} |`);
};
const ratio = (a, b) => (median(rows[a]) / median(rows[b])).toFixed(2);
if (depth > 0) {
    for (let r = 0; r < rounds; r++) {
        for (const flash of ["auto", "off"]) {
            add(`llama.cpp BF16 decode at depth ${depth} (F16 KV, flash attention ${flash})`, run("node",
                [join(here, "bench.mjs"), join(cache, "bf16.gguf"), threads, "0", "32", "1", String(depth), flash]).decodeTokensPerSecond);
        }
        for (const kv of ["bf16", "f32"]) {
            add(`Tramontane BF16 decode at depth ${depth} (${kv.toUpperCase()} KV)`, 1000 / tramontane("decode", "bf16",
                ["--context", String(depth), "--kv-cache-dtype", kv, "--settle", "10"]).step_millis_p50);
        }
        console.error(`round ${r + 1} of ${rounds} done`);
    }
    table(`run at depth ${depth}`);
    const [flashAuto, flashOff, bf16, f32] = Object.keys(rows);
    console.log(`\nratios of medians: BF16 KV ${ratio(bf16, flashAuto)}x / ${ratio(bf16, flashOff)}x, F32 KV ` +
        `${ratio(f32, flashAuto)}x / ${ratio(f32, flashOff)}x llama.cpp's F16 KV with flash attention auto / off`);
    process.exit(0);
}
for (let r = 0; r < rounds; r++) {
    const bf16 = llamaCpp("bf16.gguf"), q8 = llamaCpp("q8_0.gguf"), q4 = llamaCpp("q4_0.gguf"), q4km = llamaCpp("q4_k_m.gguf");
    add("llama.cpp BF16 prefill", Math.max(...bf16.prefillTokensPerSecond));
    add("llama.cpp BF16 decode", bf16.decodeTokensPerSecond);
    add("llama.cpp Q8_0 prefill", Math.max(...q8.prefillTokensPerSecond));
    add("llama.cpp Q8_0 decode", q8.decodeTokensPerSecond);
    add("llama.cpp Q4_0 decode", q4.decodeTokensPerSecond);
    add("llama.cpp Q4_K_M decode", q4km.decodeTokensPerSecond);
    add("Tramontane BF16 prefill", tramontane("prefill", "bf16").tokens_per_second);
    add("Tramontane FP8 prefill", tramontane("prefill", "fp8").tokens_per_second);
    for (const [name, dtype, extra] of [["BF16", "bf16", []], ["FP8", "fp8", []], ["BF16 copied", "bf16", ["--cpu-weights", "copied"]],
        ["FP8 copied", "fp8", ["--cpu-weights", "copied"]], ["q8", "bf16", ["--cpu-weights", "q8"]],
        ["q4", "bf16", ["--cpu-weights", "q4"]]]) {
        add(`Tramontane ${name} decode`, 1000 / tramontane("decode", dtype, extra).step_millis_p50);
    }
    console.error(`round ${r + 1} of ${rounds} done`);
}
table("run");
console.log(`\nratios of medians: BF16 prefill ${ratio("Tramontane BF16 prefill", "llama.cpp BF16 prefill")}x, ` +
    `BF16 decode ${ratio("Tramontane BF16 decode", "llama.cpp BF16 decode")}x (copied ` +
    `${ratio("Tramontane BF16 copied decode", "llama.cpp BF16 decode")}x), FP8 decode vs Q8_0 ` +
    `${ratio("Tramontane FP8 decode", "llama.cpp Q8_0 decode")}x (copied ${ratio("Tramontane FP8 copied decode", "llama.cpp Q8_0 decode")}x), q8 decode vs Q8_0 ${ratio("Tramontane q8 decode", "llama.cpp Q8_0 decode")}x, ` +
    `q4 decode vs Q4_0 ${ratio("Tramontane q4 decode", "llama.cpp Q4_0 decode")}x, ` +
    `q4 decode vs Q4_K_M ${ratio("Tramontane q4 decode", "llama.cpp Q4_K_M decode")}x, ` +
    `FP8 prefill vs Q8_0 ${ratio("Tramontane FP8 prefill", "llama.cpp Q8_0 prefill")}x`);
