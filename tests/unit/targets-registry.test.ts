// The target library as data: every built-in profile validates and cites its sources, the plain
// "ONNX opset N" targets exist for 7..27, and a malformed profile is refused with the bad field named.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/onnx/model';
import { checkModel } from '../../src/targets/check';
import { ONNX_OPSETS, RULE_KINDS, TARGETS, findTarget, validateProfile } from '../../src/targets/registry';
import { SHARED } from '../helpers/paths';

describe('built-in targets', () => {
  it('at least 25, unique ids usable in --target lists, each citing at least one source', () => {
    expect(TARGETS.length).toBeGreaterThanOrEqual(25);
    expect(new Set(TARGETS.map((t) => t.id)).size).toBe(TARGETS.length);
    for (const t of TARGETS) {
      expect(t.id).toMatch(/^[a-z0-9][a-z0-9.+-]*$/);
      expect(t.sources.length, t.id).toBeGreaterThan(0);
      for (const r of [...t.prelu, ...t.unsupportedOps]) expect(r.source.length, `${t.id} ${'kind' in r ? r.kind : r.op}`).toBeGreaterThan(10);
    }
  });

  it('every target has PRelu rules or says it lacks PRelu (or leaves it to ONNX-standard data)', () => {
    for (const t of TARGETS) {
      const lacks = t.unsupportedOps.some((u) => u.op === 'PRelu');
      expect(lacks || t.prelu.length > 0, t.id).toBe(true);
      if (lacks) expect(t.prelu, t.id).toEqual([]);
    }
  });

  it('every target says what it knows of other ops ("none" when nothing), onnxruntime aside (its table is set with the op tables)', () => {
    for (const t of TARGETS) {
      if (t.id === 'onnxruntime') continue; // its per-op table is set by the op-tables work
      expect(t.ops, t.id).toBeDefined();
    }
    expect(findTarget('no-prelu')!.ops).toMatchObject({ kind: 'onnx-standard' });
    expect(findTarget('tflite-gpu')!.ops).toEqual({ kind: 'none' });
    expect(findTarget('tensorrt-8')!.ops).toEqual({ kind: 'none' });
  });

  it('ORT, TensorRT 10, OpenVINO and DirectML EP profiles point at the per-op tables by their ids', () => {
    const tables = Object.fromEntries(TARGETS.flatMap((t) => (t.ops?.kind === 'table' ? [[t.id, t.ops.table]] : [])));
    expect(tables).toMatchObject({
      'ort-web-wasm': 'ort-cpu', 'ort-web-webgl': 'ort-web-webgl', 'ort-web-webgpu': 'ort-web-webgpu', 'ort-webnn': 'ort-web-webnn',
      'ort-dml': 'ort-dml', 'tensorrt-10.1': 'tensorrt-10.1', 'tensorrt-10': 'tensorrt-10.15', openvino: 'openvino',
    });
  });

  it('the issue-3 target list is all there', () => {
    for (const id of [
      'onnxruntime', 'ort-web-wasm', 'ort-web-webgl', 'ort-web-webgpu', 'ort-web-webgpu-native', 'ort-webnn', 'ort-dml',
      'tensorrt-5', 'tensorrt-6', 'tensorrt-8', 'tensorrt-10', 'tensorrt-10-dla', 'tflite', 'tflite-gpu', 'tflite-xnnpack',
      'nnapi-api28', 'nnapi-api29', 'edgetpu', 'ethos-u-vela', 'tflite-micro', 'coreml-ios15', 'openvino', 'tvm-relay',
      'tvm-relax-2025', 'tvm-relax', 'ncnn', 'mnn', 'opencv-dnn', 'webnn', 'directml-fl1', 'caffe', 'keras', 'no-prelu',
    ]) expect(findTarget(id), id).toBeDefined();
  });

  it('one "ONNX opset N" target for every opset 7..27, with standard-ONNX op data up to N', () => {
    expect(ONNX_OPSETS).toEqual({ first: 7, last: 27 });
    for (let n = 7; n <= 27; n++) {
      const t = findTarget(`onnx-opset-${n}`)!;
      expect(t.name).toBe(`ONNX opset ${n}`);
      expect(t.ops).toMatchObject({ kind: 'onnx-standard', maxOpset: n });
    }
    expect(findTarget('onnx-opset-6')).toBeUndefined();
    expect(findTarget('onnx-opset-28')).toBeUndefined();
  });

  it('onnx-opset-N on gtcrn-s3 (opset 16, standard ops only): every node unsupported below 16, nothing from 16', () => {
    const m = readModel(new Uint8Array(readFileSync(join(SHARED, 'onnx/gtcrn-s3.onnx'))));
    const nodes = m.graph!.node.length;
    const f15 = checkModel(m, findTarget('onnx-opset-15')!);
    expect(f15).toHaveLength(nodes);
    expect(new Set(f15.map((f) => f.status))).toEqual(new Set(['unsupported']));
    expect(checkModel(m, findTarget('onnx-opset-16')!)).toEqual([]);
    expect(checkModel(m, findTarget('onnx-opset-27')!)).toEqual([]);
  });
});

/** A valid custom profile, the way the app exports one. */
const good = () => ({
  id: 'my-npu',
  name: 'My NPU',
  version: '1.0',
  description: 'An NPU with per-channel PRelu only.',
  sources: ['vendor datasheet v1.0'],
  unsupportedOps: [{ op: 'Gelu', reason: 'no Gelu', source: 'datasheet' }],
  allowOps: [{ op: 'Conv' }, { op: 'FusedConv', domain: 'com.microsoft' }],
  prelu: [
    { kind: 'min-opset', opset: 7, source: 'datasheet' },
    { kind: 'dtypes', allowed: ['float32', 'int8'], source: 'datasheet', opsets: { min: 9 } },
    { kind: 'slope-layouts', allowed: ['scalar', 'channel'], source: 'datasheet' },
    { kind: 'x-ranks', min: 2, max: 4, source: 'datasheet' },
    { kind: 'slope-uniform', ranks: [3], source: 'datasheet' },
  ],
  ops: { kind: 'table', table: 'ort-cpu', absent: 'unknown', source: 'based on ORT CPU' },
});

describe('validateProfile', () => {
  it('accepts a full custom profile, and every rule kind it knows', () => {
    expect(validateProfile(good(), 'my-npu.json').id).toBe('my-npu');
    const kinds = new Set(TARGETS.flatMap((t) => t.prelu.map((r) => r.kind)));
    for (const k of ['slope-same-rank', 'slope-single-axis', 'slope-uniform', 'x-ranks', 'slope-constant', 'slope-layouts', 'dtypes-rejected', 'max-opset', 'slope-1d-channel-heuristic', 'slope-read-per-channel', 'legacy-slope-misread']) {
      expect(kinds.has(k as never), `a built-in target uses ${k}`).toBe(true);
    }
    expect(RULE_KINDS).toContain('supported');
  });

  type Mutation = (p: ReturnType<typeof good> & Record<string, unknown>) => void;
  const cases: [string, Mutation, string][] = [
    ['not an object', () => undefined, '(root)'],
    ['no id', (p) => delete (p as Record<string, unknown>).id, 'id'],
    ['an id with a comma', (p) => (p.id = 'a,b'), 'id'],
    ['an empty name', (p) => (p.name = ''), 'name'],
    ['no sources', (p) => (p.sources = []), 'sources'],
    ['a source that is a number', (p) => ((p.sources as unknown[]) = ['ok', 3]), 'sources[1]'],
    ['unsupportedOps not a list', (p) => ((p as Record<string, unknown>).unsupportedOps = {}), 'unsupportedOps'],
    ['an unsupported op without a reason', (p) => delete (p.unsupportedOps[0] as Record<string, unknown>).reason, 'unsupportedOps[0].reason'],
    ['an allowed op without a name', (p) => ((p.allowOps[0] as Record<string, unknown>).op = ''), 'allowOps[0].op'],
    ['an unknown rule kind', (p) => ((p.prelu[0] as Record<string, unknown>).kind = 'slope-magic'), 'prelu[0].kind'],
    ['a rule without a source', (p) => delete (p.prelu[1] as Record<string, unknown>).source, 'prelu[1].source'],
    ['a layout that does not exist', (p) => ((p.prelu[2] as Record<string, unknown>).allowed = ['scalar', 'diagonal']), 'prelu[2].allowed[1]'],
    ['an empty layout list', (p) => ((p.prelu[2] as Record<string, unknown>).allowed = []), 'prelu[2].allowed'],
    ['a dtype that does not exist', (p) => ((p.prelu[1] as Record<string, unknown>).allowed = ['float33']), 'prelu[1].allowed[0]'],
    ['a misspelt rule field', (p) => ((p.prelu[2] as Record<string, unknown>).alowed = ['scalar']), 'prelu[2].alowed'],
    ['a fractional opset', (p) => ((p.prelu[0] as Record<string, unknown>).opset = 7.5), 'prelu[0].opset'],
    ['x-ranks without max', (p) => delete (p.prelu[3] as Record<string, unknown>).max, 'prelu[3].max'],
    ['x-ranks with min > max', (p) => ((p.prelu[3] as Record<string, unknown>).min = 5), 'prelu[3]'],
    ['an opsets range with min > max', (p) => ((p.prelu[1] as Record<string, unknown>).opsets = { min: 9, max: 8 }), 'prelu[1].opsets'],
    ['slope-uniform ranks not numbers', (p) => ((p.prelu[4] as Record<string, unknown>).ranks = ['three']), 'prelu[4].ranks'],
    ['PRelu both unsupported and constrained', (p) => p.unsupportedOps.push({ op: 'PRelu', reason: 'none', source: 'x' }), 'prelu'],
    ['an unknown ops kind', (p) => ((p.ops as Record<string, unknown>).kind = 'list'), 'ops.kind'],
    ['a table without "absent"', (p) => delete (p.ops as Record<string, unknown>).absent, 'ops.absent'],
    ['a misspelt top-level field', (p) => ((p as Record<string, unknown>).unsuportedOps = []), 'unsuportedOps'],
  ];
  it.each(cases)('%s → names "%s"', (_, mutate, field) => {
    const p = good() as ReturnType<typeof good> & Record<string, unknown>;
    mutate(p);
    const input = _ === 'not an object' ? ['a', 'list'] : p;
    expect(() => validateProfile(input, 'my-npu.json')).toThrowError(new RegExp(`^my-npu\\.json: field "${field.replace(/[[\]().]/g, '\\$&')}" `));
  });
});
