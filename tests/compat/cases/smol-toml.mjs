import { parse, stringify } from 'smol-toml';
const doc = parse('title = "TOML"\n[owner]\nname = "Tom"\ndob = 1979-05-27T07:32:00-08:00\n[[servers]]\nip = "10.0.0.1"\nports = [8000, 8001]\n[[servers]]\nip = "10.0.0.2"\n');
console.log(JSON.stringify(doc));
console.log(stringify({ a: 1, b: { c: [1, 2], d: 'x' } }));
