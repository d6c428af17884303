/** "1 node", "2 nodes", "12,500 nodes": a count with its noun in the right number. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
