// The engine itself refuses models that are broken as models (found by the reliability work: before,
// only the app checked, and the engine threw a TypeError on duplicate attribute names).
import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema } from 'onnx-buf';
import { applyRewrites, RewriteRefused } from '../../src/rewrites/engine';
import { fixAll } from '../../src/rewrites/choose';
import { fuseAll } from '../../src/rewrites/fuse-all';
import { findTarget } from '../../src/targets/registry';
import { node, preluModel } from '../helpers/build';

const NO_PRELU = findTarget('no-prelu')!;

describe('rewrites on invalid models', () => {
  it('a tensor produced twice: applyRewrites, fixAll and fuseAll refuse with the reason', () => {
    const m = preluModel({ xShape: [1, 3, 4, 4], slopeShape: [3, 1, 1], slope: [1, 2, 3], opset: 13 });
    m.graph!.node.push(node('Relu', ['x'], ['y'], { name: 'again' }));
    expect(() => applyRewrites(m, [{ nodeId: '0', form: 'where' }], NO_PRELU)).toThrow(RewriteRefused);
    expect(() => applyRewrites(m, [{ nodeId: '0', form: 'where' }], NO_PRELU)).toThrow(/not valid ONNX/);
    expect(() => fixAll(m, NO_PRELU)).toThrow(/not valid ONNX/);
    expect(() => fuseAll(m, findTarget('onnxruntime')!)).toThrow(/not valid ONNX/);
  });

  it('an attribute given twice: refused, not a TypeError', () => {
    const m = preluModel({ xShape: [1, 3, 4, 4], slopeShape: [3, 1, 1], slope: [1, 2, 3], opset: 13 });
    const a = create(AttributeProtoSchema, { name: 'alpha', type: 1, f: 0.1 });
    m.graph!.node[0]!.attribute.push(a, a);
    expect(() => applyRewrites(m, [{ nodeId: '0', form: 'where' }], NO_PRELU)).toThrow(RewriteRefused);
  });
});
