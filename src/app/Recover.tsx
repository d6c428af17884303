// The last line of defence: if drawing throws, the page shows what happened and how to go on,
// instead of going blank. The model stays kept in IndexedDB (persist.ts), so Reload brings it back;
// Start over forgets it, for the case where the kept model itself is what cannot be drawn.
import { Component, type ReactNode } from 'react';
import { forgetSession } from './persist';

export class Recover extends Component<{ children: ReactNode }, { error?: Error }> {
  state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <main className="recover" role="alert">
        <h1>OpFit stopped drawing</h1>
        <p>{error.message || String(error)}</p>
        <p>Your model and its edits are kept in this browser: reload the page to continue where you were.</p>
        <p>
          <button type="button" onClick={() => location.reload()}>Reload</button>{' '}
          <button type="button" onClick={() => void forgetSession().finally(() => location.reload())}>Start over (forget the kept model)</button>
        </p>
      </main>
    );
  }
}
