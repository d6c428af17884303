// The flags each command accepts, for node:util parseArgs. Kept apart from main.ts (which runs on
// import) so a test can check that the usage text names every one of them.
export const OPTIONS = {
  targets: { json: { type: 'boolean' } },
  inspect: { target: { type: 'string' }, json: { type: 'boolean' }, strict: { type: 'boolean' } },
  convert: {
    target: { type: 'string' }, form: { type: 'string' }, o: { type: 'string', short: 'o' }, 'out-dir': { type: 'string' },
    verify: { type: 'boolean' }, edge: { type: 'boolean' }, tolerance: { type: 'string' }, seed: { type: 'string' },
  },
  fuse: { target: { type: 'string' }, o: { type: 'string', short: 'o' } },
  // verify also takes --inputs FILE..., read before parseArgs (it takes several values).
  verify: { edge: { type: 'boolean' }, tolerance: { type: 'string' }, seed: { type: 'string' }, dim: { type: 'string', multiple: true }, local: { type: 'boolean' } },
} as const;
