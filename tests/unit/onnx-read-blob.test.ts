// Reading a big file with progress and Cancel (src/onnx/read-blob.ts), on a Blob whose stream
// delivers slowly, as a large file on a slow disk does.
import { describe, expect, it } from 'vitest';
import { readBlob, ReadCancelled } from '../../src/onnx/read-blob';

/** A Blob-like whose stream yields `chunks` pieces of `size` bytes, one per `delayMs`. */
function slowBlob(chunks: number, size: number, delayMs: number): Blob {
  return {
    size: chunks * size,
    stream() {
      let i = 0;
      return new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, delayMs));
          if (i === chunks) c.close();
          else c.enqueue(new Uint8Array(size).fill(i++ & 0xff));
        },
      });
    },
  } as unknown as Blob;
}

describe('readBlob', () => {
  it('reads every byte in order, reporting progress up to the total', async () => {
    const seen: number[] = [];
    const out = await readBlob(slowBlob(5, 1000, 2), 'm.onnx', { onProgress: (l) => seen.push(l), intervalMs: 0 });
    expect(out.length).toBe(5000);
    expect([...new Set(out)]).toEqual([0, 1, 2, 3, 4]);
    expect(seen.at(-1)).toBe(5000);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('stops when cancelled, with a message naming the file', async () => {
    const ctrl = new AbortController();
    const p = readBlob(slowBlob(1000, 1000, 5), 'big.onnx', { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 30);
    await expect(p).rejects.toThrow(ReadCancelled);
    await expect(p).rejects.toThrow('Cancelled opening big.onnx');
  });

  it('a file that changes size while read is an error, not a silent truncation', async () => {
    const b = slowBlob(3, 10, 1);
    await expect(readBlob({ size: 20, stream: () => b.stream() } as unknown as Blob, 'x.onnx')).rejects.toThrow(/grew while it was being read/);
    await expect(readBlob({ size: 40, stream: () => b.stream() } as unknown as Blob, 'x.onnx')).rejects.toThrow(/changed while it was being read \(30 of 40 bytes\)/);
  });
});
