// Work in steps: a pass over a big graph written as a generator that yields between pieces of a few
// milliseconds. Run to the end at once (`runSteps`: the CLI, tests, small graphs), or with the page
// given back whenever a slice of time is used up (`runStepsSliced`: the app, where one pass over a
// 50,000-node graph in a single task would hold the page for 100 ms or more).

/**
 * Yielded before a piece that cannot be split (a recursive walk of ~50 ms): a sliced run gives the
 * page back before it whatever time is left in the slice, so the piece does not land on top of one.
 */
export const BREATHE = Symbol('breathe');

export type Steps<T> = Generator<void | typeof BREATHE, T>;

/** Time a sliced run works before it gives the page back: about a frame. */
export const SLICE_MS = 20;

/** Runs `steps` to the end in one go. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Ends the current task and resumes in a new one, after what the page has waiting. A plain
 * `setTimeout(0)`: nested, the browser clamps it to 4 ms, and that idle time is when the page
 * paints. Measured on a 50,000-node open (scripts/bench/profile-browser.ts): `scheduler.yield()`
 * resumes ahead of rendering, and frames went unpainted for 100–130 ms although no task was long.
 */
export function yieldToPage(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Runs `steps`, giving the page back every `sliceMs` and once before the first step: the caller's
 * task may have worked for a while already. Rejects with an AbortError once `signal` is aborted;
 * the generator is closed either way.
 */
export async function runStepsSliced<T>(steps: Steps<T>, opts: { signal?: AbortSignal; sliceMs?: number } = {}): Promise<T> {
  const sliceMs = opts.sliceMs ?? SLICE_MS;
  const breathe = async () => {
    await yieldToPage();
    opts.signal?.throwIfAborted();
    return performance.now();
  };
  try {
    let since = await breathe();
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (r.value === BREATHE || performance.now() - since >= sliceMs) since = await breathe();
    }
  } finally {
    steps.return(undefined as T);
  }
}
