// Runs the original and the converted model on the same inputs and compares every output.
// Used by the app's verify worker (onnxruntime-web) and by `opfit verify` (onnxruntime-node).
// An original that ONNX Runtime cannot run is reported as such, with the checker's reason in plain
// words; it is never counted as a pass.
import type { ModelProto } from 'onnx-buf';
import { readModel } from '../onnx/model';
import { dtypeName } from '../onnx/dtypes';
import { checkModel, INCOMPATIBLE } from '../targets/check';
import { findTarget } from '../targets/registry';
import { compareOutputs, type OutputComparison } from './compare';
import { InputError, makeFeeds, modelInputs, type FeedDescription, type FeedPlan } from './inputs';
import { runModel, type ExternalDataFile, type HostTensor, type OrtLike } from './types';
import { count } from '../plural';

export interface VerifyOptions extends FeedPlan {
  tolerance: number;
  /** The models' data files, for models that keep weights outside the .onnx (onnxruntime-web). */
  externalData?: ExternalDataFile[];
  /** Load the models from these paths instead (onnxruntime-node, which finds data files beside them). */
  paths?: { original?: string; converted?: string };
}

export type VerifyStatus = 'pass' | 'fail' | 'inconclusive' | 'original-cannot-run' | 'converted-cannot-run';

export interface VerifyReport {
  status: VerifyStatus;
  /** One sentence for the user. */
  summary: string;
  tolerance: number;
  inputs: FeedDescription[];
  outputs: OutputComparison[];
  /** ONNX Runtime's own message when the original would not load or run. */
  originalError?: string;
  /** Why, in the checker's words: the nodes ONNX Runtime cannot run. */
  originalWhy?: string[];
  convertedError?: string;
  millis: { original?: number; converted?: number };
}

export interface Progress {
  step: number;
  of: number;
  label: string;
}

/** A tolerance as people write it: 1e-5 rather than 0.00001. */
export const fmtTolerance = (t: number) => (t !== 0 && t < 1e-2 ? t.toExponential() : String(t));

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n').map((s) => s.trim()).filter(Boolean).slice(0, 3).join(' ');

/** The nodes of a model ONNX Runtime cannot run, by the onnxruntime target profile, as "node (op): reason". */
export function whyOrtRefuses(model: ModelProto): string[] {
  const ort = findTarget('onnxruntime');
  if (!ort) return [];
  return checkModel(model, ort).filter((f) => INCOMPATIBLE.has(f.status)).map((f) => `${f.node} (${f.op}): ${f.reason}`);
}

/** The two models must take the same inputs, or the same feeds cannot go to both. */
function sameInterface(original: ModelProto, converted: ModelProto): string | undefined {
  const a = modelInputs(original);
  const b = new Map(modelInputs(converted).map((s) => [s.name, s]));
  for (const s of a) {
    const t = b.get(s.name);
    if (!t) return `the converted model has no input named ${s.name}`;
    if (t.dtype !== s.dtype) return `input ${s.name} is ${dtypeName(s.dtype)} in the original but ${dtypeName(t.dtype)} in the converted model`;
    b.delete(s.name);
  }
  if (b.size) return `the converted model has inputs the original lacks: ${[...b.keys()].join(', ')}`;
  const outs = new Set(converted.graph!.output.map((o) => o.name));
  const missing = original.graph!.output.filter((o) => !outs.has(o.name)).map((o) => o.name);
  if (missing.length) return `the converted model lacks the original's ${missing.length === 1 ? 'output' : 'outputs'} ${missing.join(', ')}`;
  return undefined;
}

export async function verifyModels(
  ort: OrtLike,
  originalBytes: Uint8Array,
  convertedBytes: Uint8Array,
  opts: VerifyOptions,
  onProgress: (p: Progress) => void = () => {},
  names: { original?: string; converted?: string } = {},
): Promise<VerifyReport> {
  const of = 4;
  onProgress({ step: 0, of, label: 'Preparing inputs' });
  const original = readModel(originalBytes, names.original ?? 'the original model');
  const converted = readModel(convertedBytes, names.converted ?? 'the converted model');
  const mismatch = sameInterface(original, converted);
  if (mismatch) throw new InputError(`the two models cannot be compared: ${mismatch}`);
  const { feeds, described } = makeFeeds(modelInputs(original), opts);
  const base = { tolerance: opts.tolerance, inputs: described, outputs: [] as OutputComparison[], millis: {} as VerifyReport['millis'] };

  const timed = async (bytes: Uint8Array | string) => {
    const t0 = performance.now();
    const out = await runModel(ort, bytes, feeds, opts.externalData);
    return { out, ms: performance.now() - t0 };
  };

  onProgress({ step: 1, of, label: 'Running the original model' });
  let origOut: Record<string, HostTensor> | undefined;
  let originalError: string | undefined;
  try {
    const r = await timed(opts.paths?.original ?? originalBytes);
    origOut = r.out;
    base.millis.original = r.ms;
  } catch (e) {
    originalError = firstLine(e);
  }

  onProgress({ step: 2, of, label: 'Running the converted model' });
  let convOut: Record<string, HostTensor> | undefined;
  let convertedError: string | undefined;
  try {
    const r = await timed(opts.paths?.converted ?? convertedBytes);
    convOut = r.out;
    base.millis.converted = r.ms;
  } catch (e) {
    convertedError = firstLine(e);
  }

  if (!origOut) {
    const why = whyOrtRefuses(original);
    return {
      ...base, status: 'original-cannot-run', originalError, originalWhy: why, ...(convertedError ? { convertedError } : {}),
      summary: `The original model cannot run in ONNX Runtime, so there is nothing to compare the converted model with${convertedError ? ' (and the converted model does not run either)' : ' (the converted model does run)'}. ` +
        'The local check can still compare each rewritten node with what the original node means.',
    };
  }
  if (!convOut) {
    return { ...base, status: 'converted-cannot-run', convertedError, summary: 'The original model runs, but the converted model does not: the conversion broke it.' };
  }

  onProgress({ step: 3, of, label: 'Comparing outputs' });
  const outputs = compareOutputs(origOut, convOut, opts.tolerance, original.graph!.output.map((o) => o.name));
  const failed = outputs.filter((o) => !o.pass);
  const unproved = outputs.filter((o) => o.inconclusive);
  onProgress({ step: 4, of, label: 'Done' });
  return {
    ...base, outputs, status: failed.length ? 'fail' : unproved.length ? 'inconclusive' : 'pass',
    summary: failed.length
      ? `${failed.length} of ${count(outputs.length, 'output')} ${failed.length === 1 ? 'differs' : 'differ'} beyond tolerance ${fmtTolerance(opts.tolerance)}: ${failed.map((o) => o.name).join(', ')}.`
      : unproved.length
        ? `Not a pass: ${unproved.map((o) => o.inconclusive).join('; ')}. The edge values reached every value of ${unproved.length === 1 ? 'that output' : 'those outputs'}; use random inputs for the whole model, and the local check to try edge values on each rewritten node.`
        : outputs.length === 1 ? `The output agrees within tolerance ${fmtTolerance(opts.tolerance)}.` : `All ${outputs.length} outputs agree within tolerance ${fmtTolerance(opts.tolerance)}.`,
  };
}
