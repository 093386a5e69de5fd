# PyTorch's GEMM time on the GPU check's shapes (GemmBaselineChecks, through PyTorchBaseline.java).
# argv[1]: JSON list of {"precision": "fp8" | "bf16", "m": .., "n": .., "k": ..}: y[m, n] = x[m, k] w[n, k]^T.
# Prints one JSON object: {"unavailable": reason} or {"torch": version, "device": name, "results": [the shapes,
# each with "us" (best of 5 warm runs, CUDA events) or "error"]}.
# fp8: torch._scaled_mm on e4m3 x and w^T (the TN layout), per-tensor scales, FP32 out, no fast accumulation,
# as cuBLASLt is asked; bf16: torch.matmul on BF16 x and w^T (BF16 out).
import json
import sys

try:
    import torch
except Exception as e:
    print(json.dumps({"unavailable": "no torch: " + str(e)}))
    sys.exit(0)
if not torch.cuda.is_available():
    print(json.dumps({"unavailable": "torch " + torch.__version__ + " sees no CUDA device"}))
    sys.exit(0)


def best_micros(op, runs=5):
    op()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    best = float("inf")
    for _ in range(runs):
        start.record()
        op()
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end) * 1000.0)
    return best


results = []
for shape in json.loads(sys.argv[1]):
    m, n, k = shape["m"], shape["n"], shape["k"]
    try:
        x = torch.rand(m, k, device="cuda") - 0.5
        w = torch.rand(n, k, device="cuda") - 0.5
        if shape["precision"] == "fp8":
            xq, wq = x.to(torch.float8_e4m3fn), w.to(torch.float8_e4m3fn)
            one = torch.ones((), device="cuda", dtype=torch.float32)
            op = lambda: torch._scaled_mm(xq, wq.t(), scale_a=one, scale_b=one, out_dtype=torch.float32)
        else:
            xb, wb = x.to(torch.bfloat16), w.to(torch.bfloat16)
            op = lambda: torch.matmul(xb, wb.t())
        del x, w
        results.append(dict(shape, us=best_micros(op)))
    except Exception as e:
        results.append(dict(shape, error=(type(e).__name__ + ": " + str(e))[:300]))
    finally:
        op = None
        torch.cuda.empty_cache()

print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "results": results}))
