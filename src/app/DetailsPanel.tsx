import { useMemo } from 'react';
import { count } from '../plural';
import type { AttributeProto, ModelProto, TensorProto } from 'onnx-buf';
import { useStore } from './store';
import { dtypeName } from '../onnx/dtypes';
import { readTensorValues, isExternal, tensorElementCount } from '../onnx/tensor';
import { fmtShape } from '../graph/broadcast';
import { functionStep, indexAt, parseNodeId, resolveTensor, type GraphIndex, type PathStep } from '../graph/scope';
import { tensorLabel } from '../graph/view';
import { formsFor } from '../rewrites/choose';
import { TeachingButton } from './TeachingView';

const SHOW_VALUES_UP_TO = 64;

export function DetailsPanel() {
  const model = useStore((s) => s.model);
  const selected = useStore((s) => s.selected);
  if (!model || !selected) {
    return (
      <aside className="panel details" aria-label="Node details">
        <h2>Details</h2>
        <p className="muted">{model ? 'Click a node, or a finding, to see its attributes, inputs and outputs.' : ''}</p>
        {model && <ModelSummary model={model} />}
      </aside>
    );
  }
  return <NodeDetails model={model} id={selected} />;
}

function ModelSummary({ model }: { model: ModelProto }) {
  const g = model.graph!;
  const constants = g.node.filter((n) => n.opType === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx')).length;
  return (
    <dl className="kv">
      <dt>IR version</dt><dd>{String(model.irVersion)}</dd>
      <dt>Opsets</dt><dd>{model.opsetImport.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}</dd>
      <dt>Producer</dt><dd>{[model.producerName, model.producerVersion].filter(Boolean).join(' ') || '—'}</dd>
      <dt>Nodes</dt>
      <dd>
        {g.node.length.toLocaleString('en-US')}
        {constants > 0 && <span className="muted"> ({count(constants, 'Constant node')} {constants === 1 ? 'is' : 'are'} shown as weights, not drawn)</span>}
      </dd>
      <dt>Weights</dt><dd>{g.initializer.length.toLocaleString('en-US')}</dd>
    </dl>
  );
}

function NodeDetails({ model, id }: { model: ModelProto; id: string }) {
  const findings = useStore((s) => s.findings);
  const targetId = useStore((s) => s.targetId);
  const at = parseNodeId(id);
  const scope = useMemo(() => (at ? indexAt(model, at.path) : undefined), [model, id]); // eslint-disable-line react-hooks/exhaustive-deps
  const node = at && scope?.graph.node[at.index];
  const finding = findings.find((f) => f.nodeId === id);
  if (!at || !scope || !node) {
    return <aside className="panel details" aria-label="Node details"><p className="muted">The selected item is a graph input or output.</p></aside>;
  }
  return (
    <aside className="panel details" aria-label="Node details">
      <h2>{node.opType} <span className="muted">{node.name}</span></h2>
      {node.domain && <p className="muted">domain {node.domain}</p>}
      <FunctionLink model={model} opType={node.opType} domain={node.domain} />
      {finding && (
        <div className={`finding-detail ${finding.status}`}>
          <span className={`badge ${finding.status}`}>{finding.status}</span> {finding.reason}
          <div className="source">Source: {finding.source}</div>
        </div>
      )}
      {node.opType === 'PRelu' && <RewriteForms model={model} id={id} targetId={targetId} />}
      {node.opType === 'PRelu' && <TeachingButton model={model} id={id} />}
      <h3>Attributes</h3>
      {node.attribute.length === 0 ? <p className="muted">none</p> : (
        <dl className="kv">
          {node.attribute.map((a) => (
            <AttributeRow key={a.name} attr={a} nodeIndex={at.index} path={at.path} />
          ))}
        </dl>
      )}
      <h3>Inputs</h3>
      <ul className="tensors">{node.input.map((name, i) => <TensorItem key={`${i}:${name}`} scope={scope} name={name} />)}</ul>
      <h3>Outputs</h3>
      <ul className="tensors">{node.output.map((name, i) => <li key={`${i}:${name}`}>{name ? tensorLabel(scope, name) : <em>(omitted)</em>}</li>)}</ul>
    </aside>
  );
}

/** A node that calls a model-local function: its body opens like a subgraph. */
function FunctionLink({ model, opType, domain }: { model: ModelProto; opType: string; domain: string }) {
  const enterGraph = useStore((s) => s.enterGraph);
  const index = model.functions.findIndex((f) => f.name === opType && f.domain === domain);
  if (index < 0) return null;
  return (
    <p>
      Calls the model-local function {domain ? `${domain}.` : ''}{opType}.{' '}
      <button type="button" onClick={() => enterGraph([functionStep(index)])}>Open function body ({count(model.functions[index]!.node.length, 'node')})</button>
    </p>
  );
}

function TensorItem({ scope, name }: { scope: GraphIndex; name: string }) {
  if (!name) return <li><em>(omitted optional input)</em></li>;
  const src = resolveTensor(scope, name);
  if (src.kind === 'initializer' || src.kind === 'constant') return <li><WeightView name={name} tensor={src.tensor} kind={src.kind} /></li>;
  return <li>{tensorLabel(scope, name)}{src.kind === 'missing' && <span className="warn"> — produced by nothing in scope</span>}</li>;
}

function WeightView({ name, tensor, kind }: { name: string; tensor: TensorProto; kind: string }) {
  const count = tensorElementCount(tensor);
  const values = count <= SHOW_VALUES_UP_TO ? readTensorValues(tensor, SHOW_VALUES_UP_TO) : undefined;
  return (
    <div className="weight">
      <div>{name} <span className="muted">({kind === 'constant' ? 'Constant node' : 'weight'})</span></div>
      <div className="mono">{dtypeName(tensor.dataType)} {fmtShape(tensor.dims.map(Number))}{isExternal(tensor) ? ' · external data' : ''}</div>
      {values && <div className="values mono" aria-label={`values of ${name}`}>[{values.map(fmtNum).join(', ')}]</div>}
      {!values && count > SHOW_VALUES_UP_TO && <div className="muted">{count.toLocaleString()} {count === 1 ? 'value' : 'values'}</div>}
    </div>
  );
}

const fmtNum = (v: number) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString());
const text = new TextDecoder();

function AttributeRow({ attr, nodeIndex, path }: { attr: AttributeProto; nodeIndex: number; path: readonly PathStep[] }) {
  const enterGraph = useStore((s) => s.enterGraph);
  const open = (index?: number) => enterGraph([...path, { node: nodeIndex, attr: attr.name, ...(index !== undefined ? { index } : {}) }]);
  let value: React.ReactNode;
  switch (attr.type) {
    case 1: value = fmtNum(attr.f); break;
    case 2: value = String(attr.i); break;
    case 3: value = JSON.stringify(text.decode(attr.s)); break;
    case 4: value = attr.t ? `${dtypeName(attr.t.dataType)} ${fmtShape(attr.t.dims.map(Number))}` : 'tensor'; break;
    case 5: value = <button type="button" onClick={() => open()}>Open {attr.name} ({count(attr.g?.node.length ?? 0, 'node')})</button>; break;
    case 6: value = `[${attr.floats.map(fmtNum).join(', ')}]`; break;
    case 7: value = `[${attr.ints.join(', ')}]`; break;
    case 8: value = `[${attr.strings.map((s) => JSON.stringify(text.decode(s))).join(', ')}]`; break;
    case 10: value = attr.graphs.map((g, i) => <button type="button" key={i} onClick={() => open(i)}>Open {attr.name}[{i}] ({count(g.node.length, 'node')})</button>); break;
    default: value = <span className="muted">type {attr.type}</span>;
  }
  return (<><dt>{attr.name}</dt><dd className="mono">{value}</dd></>);
}

function RewriteForms({ model, id, targetId }: { model: ModelProto; id: string; targetId: string }) {
  const rewrite = useStore((s) => s.rewrite);
  const target = useStore((s) => s.targetProfile)(targetId);
  const options = useMemo(() => formsFor(model, id, target), [model, id, target]);
  const best = options.find((o) => o.available);
  return (
    <section className="forms" aria-label="Rewrite forms">
      <h3>Rewrite for {target.name}</h3>
      <ul>
        {options.map((o) => (
          <li key={o.form.id} className={o.available ? 'available' : 'unavailable'}>
            <div className="form-head">
              <strong>{o.form.label}</strong>
              {o === best && <span className="badge best">best</span>}
              <button type="button" disabled={!o.available} onClick={() => rewrite([{ nodeId: id, form: o.form.id }])} aria-label={`Apply ${o.form.id}`}>
                Apply
              </button>
            </div>
            <code className="formula">{o.form.formula}</code>
            {o.available && o.raisesTo && <div className="muted">moves the model to opset {o.raisesTo}</div>}
            {o.available && (o.form.caveat ? <div className="caveat">{o.form.caveat}</div> : <div className="exact">Exact by ONNX's definition, including NaN, ±inf and −0.0.</div>)}
            {o.available && o.form.runtimeNote && <div className="muted runtime-note">{o.form.runtimeNote}</div>}
            {!o.available && <div className="why">Not offered: {o.reason ?? o.why}</div>}
          </li>
        ))}
      </ul>
    </section>
  );
}
