// The reference checker: Debian's python3-onnx (onnx.checker.check_model), independent of our code.
import { execFileSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, sys, onnx
out = {}
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(path)
        out[path] = None
    except Exception as e:
        out[path] = (type(e).__name__ + ': ' + str(e)).strip()
print(json.dumps(out))
`;

/** check_model on every file in one Python process: path → null when valid, else the error. */
export function checkModels(paths: string[]): Record<string, string | null> {
  const stdout = execFileSync(PYTHON, ['-c', SCRIPT, ...paths], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}
