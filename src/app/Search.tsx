// Search by node name, op type or tensor name, in every graph of the model (subgraphs and function
// bodies too); Enter or a click jumps to the node: into its graph, opening the groups that hold it,
// selected and centred. "/" or Ctrl+F focuses the box.
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useStore } from './store';
import { allGraphs, pathKey } from '../graph/scope';
import { searchEntries, searchGraphs, type SearchEntry, type SearchHit } from '../graph/view';
import type { ModelProto } from 'onnx-buf';

const LIMIT = 50;
const entriesCache = new WeakMap<ModelProto, SearchEntry[]>();
function entriesOf(model: ModelProto): SearchEntry[] {
  let e = entriesCache.get(model);
  if (!e) {
    e = searchEntries(allGraphs(model));
    entriesCache.set(model, e);
  }
  return e;
}

export function jumpTo(entry: SearchEntry) {
  const s = useStore.getState();
  if (pathKey(s.viewPath) !== entry.graph) s.enterGraph(entry.path);
  s.select(entry.id, true);
}

export function Search() {
  const model = useStore((s) => s.model);
  const viewPath = useStore((s) => s.viewPath);
  const [query, setQuery] = useState('');
  const [debounced, setDebounced] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();

  useEffect(() => {
    const t = setTimeout(() => setDebounced(query), query.length < 2 ? 250 : 120);
    return () => clearTimeout(t);
  }, [query]);

  const result = useMemo(
    () => (model && debounced.trim() ? searchGraphs(entriesOf(model), debounced, pathKey(viewPath), LIMIT) : { total: 0, hits: [] as SearchHit[] }),
    [model, debounced, viewPath],
  );
  useEffect(() => setActive(0), [result]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = (e.target as HTMLElement | null)?.closest?.('input, textarea, select, [contenteditable="true"]');
      const ctrlF = (e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'f';
      if (!ctrlF && (e.key !== '/' || typing || e.ctrlKey || e.metaKey || e.altKey)) return;
      e.preventDefault();
      input.current?.focus();
      input.current?.select();
      setOpen(true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const go = (hit: SearchHit | undefined) => {
    if (!hit) return;
    setOpen(false);
    jumpTo(hit.entry);
  };
  const pending = query.trim() !== debounced.trim();
  const shown = open && query.trim() !== '';

  return (
    <div className="search">
      <input
        ref={input}
        type="search"
        role="searchbox"
        aria-label="Search nodes by name, op type or tensor"
        aria-controls={listId}
        aria-expanded={shown}
        aria-activedescendant={shown && result.hits[active] ? `${listId}-${active}` : undefined}
        placeholder="Search nodes, ops, tensors  ( / )"
        value={query}
        onChange={(e) => { setQuery(e.target.value); setOpen(true); }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') { e.preventDefault(); setActive((a) => Math.min(a + 1, result.hits.length - 1)); }
          else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((a) => Math.max(a - 1, 0)); }
          else if (e.key === 'Enter') {
            e.preventDefault();
            if (pending && model) go(searchGraphs(entriesOf(model), query, pathKey(viewPath), 1).hits[0]);
            else go(result.hits[active]);
          } else if (e.key === 'Escape') {
            if (open && query) setOpen(false);
            else { setQuery(''); input.current?.blur(); }
          }
        }}
      />
      {shown && (
        <div className="search-results">
          <div className="search-count" aria-live="polite">
            {pending ? 'Searching…' : result.total === 0 ? 'No match' : result.total > result.hits.length
              ? `${result.hits.length} of ${result.total.toLocaleString()} matches` : `${result.total.toLocaleString()} match${result.total > 1 ? 'es' : ''}`}
          </div>
          {!pending && result.hits.length > 0 && (
            <ul role="listbox" id={listId} aria-label="Search results">
              {result.hits.map((h, i) => (
                <li
                  key={`${h.entry.graph}|${h.entry.id}`}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : undefined}
                  onMouseDown={(e) => e.preventDefault()}
                  onMouseEnter={() => setActive(i)}
                  onClick={() => go(h)}
                >
                  <span className="hit-op">{h.entry.opType}</span> <span className="hit-name">{h.entry.name}</span>
                  {h.by === 'tensor' && <span className="hit-why"> tensor {h.tensor}</span>}
                  {h.entry.graph && <span className="hit-why"> in {h.entry.graph.startsWith('f') ? 'a function' : 'a subgraph'}</span>}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
