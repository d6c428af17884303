# The reference side of the benchmark, in its own process per row: Debian's python3-onnx.
#   measure.py load MODEL [--no-external]     onnx.load (reads external data unless --no-external)
#   measure.py serialize MODEL [--no-external] [--out OUT]  onnx.load, then time SerializeToString
#                                              alone, and (with --out) writing its bytes to OUT
# Prints one JSON line: times in ms, peak RSS in kB (ru_maxrss).
import json, os, resource, sys, time
import onnx

def peak_rss_kb():
    # VmHWM: this program's own peak (ru_maxrss carries the parent's peak across fork + exec on Linux).
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

op, path = sys.argv[1], sys.argv[2]
external = '--no-external' not in sys.argv
out = {'op': op, 'modelBytes': os.path.getsize(path), 'onnx': onnx.__version__}
t = time.perf_counter()
m = onnx.load(path, load_external_data=external)
out['load'] = round((time.perf_counter() - t) * 1000, 1)
if op == 'serialize':
    t = time.perf_counter()
    s = m.SerializeToString()
    out['serialize'] = round((time.perf_counter() - t) * 1000, 1)
    out['serializedBytes'] = len(s)
    if '--out' in sys.argv:
        t = time.perf_counter()
        with open(sys.argv[sys.argv.index('--out') + 1], 'wb') as f:
            f.write(s)
        out['write'] = round((time.perf_counter() - t) * 1000, 1)
out['peakRssKB'] = peak_rss_kb()
print(json.dumps(out))
