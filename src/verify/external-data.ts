// The data files of models that keep their weights outside the .onnx, gathered for
// onnxruntime-web (which takes them as `externalData` by the location the model names).
import type { ModelProto } from 'onnx-buf';
import { allModelTensors, externalDataOf, externalRef } from '../onnx/external';
import type { ExternalDataFile } from './types';

export async function externalDataFiles(models: readonly ModelProto[]): Promise<{ files: ExternalDataFile[]; missing: string[] }> {
  const files = new Map<string, ExternalDataFile>();
  const missing = new Set<string>();
  for (const model of models) {
    for (const t of allModelTensors(model)) {
      const ref = externalRef(t);
      if (!ref || files.has(ref.location) || missing.has(ref.location)) continue;
      const file = externalDataOf(t)?.fileFor(ref.location);
      if (!file) { missing.add(ref.location); continue; }
      files.set(ref.location, { path: ref.location, data: await file.read(0, file.size) });
    }
  }
  return { files: [...files.values()], missing: [...missing] };
}
