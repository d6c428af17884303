// Issue 6, item 3: models that decode as protobuf but break ONNX's rules become findings — never a
// crash — and rewrites refuse where they cannot be made correct. ONNX Runtime is the oracle for
// "unsupported": each such model is one it refuses to load, with the message the finding quotes.
import { readFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, FunctionProtoSchema, OperatorSetIdProtoSchema, StringStringEntryProtoSchema, type ModelProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { MAX_MODEL_FINDINGS, MODEL_CHECK, rewriteBlockers, validateModel } from '../../src/graph/validate';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { fixAll } from '../../src/rewrites/choose';
import { NEWEST_KNOWN_OPSET } from '../../src/onnx/opset-history';
import { DT, graph, graphAttr, makeTensor, model, node, preluModel, valueInfo } from '../helpers/build';
import { fixtureModels, testdataModels } from '../helpers/paths';
import { session } from '../helpers/ort';

const x = valueInfo('x', DT.FLOAT, [1, 4]);
const y = valueInfo('y', DT.FLOAT, [1, 4]);
const simple = (nodes: ReturnType<typeof node>[], opset = 13, outputs = [y]) => model(graph({ nodes, inputs: [x], outputs }), opset);

async function ortRefuses(m: ModelProto): Promise<string> {
  try {
    const s = await session(writeModel(m));
    await s.release();
  } catch (e) {
    return (e as Error).message;
  }
  return 'ONNX Runtime loaded it';
}

const opset = (domain: string, version: number) => create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) });

/** [what, model, status, node the finding is on ('' = the model), reason pattern, ORT's message or undefined]. */
const CASES: [string, () => ModelProto, string, string, RegExp, RegExp | undefined][] = [
  [
    'a cycle',
    () => simple([node('Add', ['x', 'b'], ['a'], { name: 'add' }), node('Relu', ['a'], ['b'], { name: 'relu' }), node('Neg', ['b'], ['y'], { name: 'neg' })]),
    'unsupported', 'add', /^add, relu → add form a cycle: .*"the graph is not acyclic"/, /not acyclic/,
  ],
  [
    'a node that reads its own output',
    () => simple([node('Add', ['x', 'a'], ['a'], { name: 'loop' }), node('Relu', ['a'], ['y'])]),
    'unsupported', 'loop', /^loop reads its own output/, /not acyclic/,
  ],
  [
    'an input nobody produces',
    () => simple([node('Add', ['x', 'nowhere'], ['y'], { name: 'add' })]),
    'unsupported', 'add', /^Input "nowhere" is produced by no node, initializer or graph input, so the node has nothing to read/, /not a graph input, initializer, or output of a previous node/,
  ],
  [
    'a graph output nobody produces',
    () => simple([node('Relu', ['x'], ['a'])]),
    'unsupported', 'model', /^The graph output "y" is produced by nothing/, /Graph output \(y\) does not exist/,
  ],
  [
    'a tensor produced by two nodes',
    () => simple([node('Relu', ['x'], ['y'], { name: 'r' }), node('Neg', ['x'], ['y'], { name: 'n' })]),
    'unsupported', 'n', /^"y" is defined 2 times \(the output of r, the output of n\); an ONNX value has exactly one definition/, /Duplicate definition of name \(y\)/,
  ],
  [
    'a node output named like a graph input',
    () => model(graph({ nodes: [node('Relu', ['x'], ['x'], { name: 'r' })], inputs: [x], outputs: [x] }), 13),
    'unsupported', 'r', /^"x" is defined 2 times \(a graph input, the output of r\)/, /Duplicate definition of name \(x\)/,
  ],
  [
    'a graph input listed twice',
    () => model(graph({ nodes: [node('Relu', ['x'], ['y'])], inputs: [x, x], outputs: [y] }), 13),
    'unsupported', 'model', /^"x" is defined 2 times \(a graph input, a graph input\)/, /Duplicate definition-site for \(x\)/,
  ],
  [
    'two nodes with the same name',
    () => simple([node('Relu', ['x'], ['a'], { name: 'same' }), node('Neg', ['a'], ['y'], { name: 'same' })]),
    'unsupported', 'same (node #1)', /^Node #0 has the same name, "same"; node names must be unique/, /two nodes with same node name \(same\)/,
  ],
  [
    'an attribute given twice',
    () => simple([node('LeakyRelu', ['x'], ['y'], { name: 'lr', attribute: [create(AttributeProtoSchema, { name: 'alpha', type: 1, f: 0.1 }), create(AttributeProtoSchema, { name: 'alpha', type: 1, f: 0.2 })] })]),
    'unsupported', 'lr', /^Attribute "alpha" appears more than once on this node/, /Attribute 'alpha' appeared multiple times/,
  ],
  [
    'no opset_import at all (not truncated: metadata follows the graph)',
    () => {
      const m = simple([node('Relu', ['x'], ['y'])]);
      m.opsetImport = [];
      m.metadataProps = [create(StringStringEntryProtoSchema, { key: 'author', value: 'someone' })];
      return m;
    },
    'unsupported', 'model', /^The model lists no opset_import, which every ONNX model since IR version 3 must/, /Missing opset in the model/,
  ],
  [
    'a custom domain with no opset_import entry',
    () => {
      const m = simple([node('Relu', ['x'], ['y'])]);
      m.graph!.node[0]!.domain = 'com.example';
      return m;
    },
    'unsupported', 'Relu #0', /^1 node uses domain "com\.example", but the model's opset_import has no entry for it/, /No opset import for domain 'com\.example'/,
  ],
  [
    'an unknown domain, imported',
    () => {
      const m = simple([node('Frob', ['x'], ['y'], { name: 'f' })]);
      m.graph!.node[0]!.domain = 'com.example';
      m.opsetImport.push(opset('com.example', 1));
      return m;
    },
    'unknown', 'f', /^1 node uses domain "com\.example", which is neither ONNX's nor ONNX Runtime's.*custom-op library/, /not a registered function\/op/,
  ],
  [
    'an opset newer than OpFit knows',
    () => simple([node('Relu', ['x'], ['y'])], NEWEST_KNOWN_OPSET + 3),
    'unknown', 'model', new RegExp(`^The model imports opset ${NEWEST_KNOWN_OPSET + 3} of the default ONNX domain; OpFit knows operators up to opset ${NEWEST_KNOWN_OPSET}`), /opset|Opset/,
  ],
  [
    'an op ONNX does not define, in the default domain',
    () => simple([node('Frobnicate', ['x'], ['y'], { name: 'f' })]),
    'unsupported', 'f', /^"Frobnicate" is not an ONNX operator/, /No Op registered for Frobnicate with domain_version of 13/,
  ],
  [
    'an op newer than the model\'s opset',
    () => simple([node('Gelu', ['x'], ['y'], { name: 'g' })]),
    'unsupported', 'g', /^Gelu first appears in opset 20, but the model imports opset 13, where it has no schema/, /No Op registered for Gelu with domain_version of 13/,
  ],
  [
    'an If branch reading a name nobody defines',
    () => {
      const thenG = graph({ name: 'then', nodes: [node('Neg', ['ghost'], ['t'], { name: 'inner' })], outputs: [valueInfo('t', DT.FLOAT, [1, 4])] });
      const elseG = graph({ name: 'else', nodes: [node('Relu', ['x'], ['e'])], outputs: [valueInfo('e', DT.FLOAT, [1, 4])] });
      const cond = makeTensor('cond', DT.BOOL, [], [1]);
      return model(graph({ nodes: [node('If', ['cond'], ['y'], { name: 'if', attribute: [graphAttr('then_branch', thenG), graphAttr('else_branch', elseG)] })], inputs: [x], outputs: [y], initializers: [cond] }), 13);
    },
    'unsupported', 'inner', /^Input "ghost" is produced by no node, initializer or graph input here or in an enclosing graph/, /ghost/,
  ],
];

describe('broken-but-decodable models become findings', () => {
  it.each(CASES)('%s', async (_, build, status, nodeName, reason, ort) => {
    const m = readModel(writeModel(build()), 'm.onnx');
    const found = validateModel(m);
    expect(found.map((f) => f.reason)).toEqual([expect.stringMatching(reason)]);
    expect(found[0]).toMatchObject({ status, node: nodeName, op: MODEL_CHECK });
    expect(found[0]!.source).toMatch(/ONNX IR specification|ONNX operator changelog|OpFit knows ONNX operators/);
    // checkModel shows them like any other finding, for every target.
    for (const id of ['onnxruntime', 'no-prelu', 'tensorrt-8']) {
      expect(checkModel(m, findTarget(id)!)).toEqual(expect.arrayContaining([expect.objectContaining({ op: MODEL_CHECK, reason: found[0]!.reason })]));
    }
    if (ort) expect(await ortRefuses(m)).toMatch(ort);
  });

  it('a function body is checked in its own scope', () => {
    const fn = create(FunctionProtoSchema, {
      name: 'MyAct', domain: 'local', input: ['a'], output: ['b'],
      node: [node('Mul', ['a', 'undefined_in_fn'], ['b'], { name: 'mul' })],
      opsetImport: [opset('', 13)],
    });
    const m = simple([node('MyAct', ['x'], ['y'], { name: 'call' })]);
    m.graph!.node[0]!.domain = 'local';
    m.opsetImport.push(opset('local', 1));
    m.functions = [fn];
    const found = validateModel(m);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ node: 'mul', nodeId: 'f0/0' });
    expect(found[0]!.reason).toMatch(/"undefined_in_fn" is produced by no node/);
  });

  it('IR 1–2 models need no opset_import (opset 1 is implied)', () => {
    const m = simple([node('Relu', ['x'], ['y'])], 1, [y]);
    m.irVersion = 2n;
    m.opsetImport = [];
    expect(validateModel(m)).toEqual([]);
  });

  it('a sound model has none, and every fixture and libonnx-testdata model is sound', () => {
    expect(validateModel(preluModel({ xShape: [1, 3], slopeShape: [3], slope: [0.1, 0.2, 0.3] }))).toEqual([]);
    const noisy: string[] = [];
    for (const p of [...fixtureModels(), ...testdataModels()]) {
      for (const f of validateModel(readModel(new Uint8Array(readFileSync(p)), p))) noisy.push(`${p}: ${f.reason}`);
    }
    expect(noisy).toEqual([]);
  });

  it('thousands of problems are capped, with a summary', () => {
    const nodes = Array.from({ length: 5000 }, (_, i) => node('Relu', [`missing${i}`], [`o${i}`], { name: `n${i}` }));
    const m = model(graph({ nodes: [...nodes, node('Relu', ['x'], ['y'])], inputs: [x], outputs: [y] }), 13);
    const t0 = performance.now();
    const found = validateModel(m);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(found).toHaveLength(MAX_MODEL_FINDINGS + 1);
    expect(found.at(-1)!.reason).toMatch(/^…and 4,800 more problems/);
  });

  it('a long cycle is named once, from its first node', () => {
    const n = 2000;
    const nodes = Array.from({ length: n }, (_, i) => node('Relu', [i === 0 ? `v${n - 1}` : `v${i - 1}`], [`v${i}`], { name: `r${i}` }));
    const m = model(graph({ nodes: [...nodes, node('Neg', ['v5'], ['y'], { name: 'tail' })], inputs: [x], outputs: [y] }), 13);
    const found = validateModel(m);
    expect(found).toHaveLength(1);
    expect(found[0]!.node).toBe('r0');
    expect(found[0]!.reason).toMatch(/^r0, r1, r2, r3, r4, r5, … \(2000 in all\) → r0 form a cycle/);
  });
});

describe('rewrites refuse where they cannot be made correct', () => {
  const prelu = () => preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 13 });

  it('a sound model has no blockers', () => {
    expect(rewriteBlockers(prelu())).toBeUndefined();
  });

  it('duplicate definitions, cycles, a missing or too-new opset block rewrites', () => {
    const dup = prelu();
    dup.graph!.node.push(node('Relu', ['x'], ['y'], { name: 'again' }));
    expect(rewriteBlockers(dup)).toMatch(/^the model is not valid ONNX, so no rewrite can be guaranteed correct: again: "y" is defined 2 times/);

    const newer = prelu();
    newer.opsetImport = [opset('', NEWEST_KNOWN_OPSET + 1)];
    expect(rewriteBlockers(newer)).toMatch(/imports opset \d+ of the default ONNX domain/);

    const twice = prelu();
    const body = graph({ nodes: [], outputs: [] });
    twice.graph!.node.push(node('If', ['c'], ['z'], { name: 'if', attribute: [graphAttr('then_branch', body), graphAttr('then_branch', body)] }));
    expect(rewriteBlockers(twice)).toMatch(/^the model is not valid ONNX, so no rewrite can be guaranteed correct: if: Attribute "then_branch" appears more than once/);

    const none = prelu();
    none.opsetImport = [];
    expect(rewriteBlockers(none)).toMatch(/lists no opset_import/);
  });

  it('problems that do not touch the rewrite (a node name, an unknown domain) do not block it', () => {
    const m = prelu();
    m.graph!.node.push(node('Frob', ['y'], ['z'], { name: 'prelu' }));
    m.graph!.node[1]!.domain = 'com.example';
    m.opsetImport.push(opset('com.example', 1));
    expect(validateModel(m).length).toBe(2);
    expect(rewriteBlockers(m)).toBeUndefined();
  });

  it('fixAll never picks a model-level finding as a PRelu to rewrite', () => {
    // The PRelu itself is fine for no-prelu's rule; its duplicate name is a model finding.
    const m = prelu();
    m.graph!.node.push(node('Relu', ['y'], ['z'], { name: 'prelu' }));
    const r = fixAll(m, findTarget('no-prelu')!);
    expect(r.picks).toHaveLength(1);
    expect(r.unfixed.map((u) => u.why)).toEqual([expect.stringMatching(/^no rewrite for model check: Node #0 has the same name/)]);
  });
});
