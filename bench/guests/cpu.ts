// CPU-bound JavaScript in the guest engine (a bench guest, not a test): a few workloads typical
// of app code, each timed with performance.now(), printed as one JSON line "cpu {...}" in ms.
// Run: npx kiln build bench/guests/cpu.ts -o /tmp/cpu.elf && npx kiln run /tmp/cpu.elf

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return Math.round((performance.now() - t0) * 10) / 10;
}

let sink = 0;
const results = {
  // integer arithmetic in a tight loop
  loop: time(() => { let s = 0; for (let i = 0; i < 3_000_000; i++) s = (s + i * 7) % 1000003; sink += s; }),
  // object allocation and property access
  objects: time(() => { let s = 0; for (let i = 0; i < 300_000; i++) { const o = { a: i, b: i + 1, c: [i] }; s += o.a + o.b + o.c[0]!; } sink += s; }),
  // array methods with closures
  arrays: time(() => { const a = Array.from({ length: 100_000 }, (_, i) => i); sink += a.map((x) => x * 2).filter((x) => x % 3 === 0).reduce((p, x) => p + x, 0); }),
  // sort of numbers with a comparator
  sort: time(() => { const a = Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) % 1000); a.sort((x, y) => x - y); sink += a[500]!; }),
  // string building and JSON
  json: time(() => { const rows = []; for (let i = 0; i < 20_000; i++) rows.push({ id: i, name: `row ${i}`, tags: ['a', 'b'] }); sink += JSON.parse(JSON.stringify(rows)).length; }),
  // regular expressions
  regexp: time(() => { const re = /(\d+)-(\w+)/g; const s = 'x 12-ab y 345-cd '.repeat(5_000); let n = 0; for (const _ of s.matchAll(re)) n++; sink += n; }),
};
console.log(`cpu ${JSON.stringify(results)} ${sink > 0 ? '' : '!'}`);
