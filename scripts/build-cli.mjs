// npm run build:cli: bundles src/cli/main.ts into dist-cli/opfit.mjs (onnxruntime-node stays
// external) and makes it executable (mode 0755), so package.json's "bin" runs it: `npx opfit`, or
// the file itself through its #!/usr/bin/env node line. `-- --outfile=PATH` builds elsewhere (the
// tests build to a private file, then rename it over the bundle).
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = process.argv.find((a) => a.startsWith('--outfile='))?.slice('--outfile='.length) ?? 'dist-cli/opfit.mjs';
await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['onnxruntime-node'],
  outfile,
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
