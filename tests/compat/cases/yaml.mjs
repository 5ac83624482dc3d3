import YAML from 'yaml';
const doc = YAML.parse('name: kiln\nversion: 1.2\nlist:\n  - a\n  - { b: 2, c: [1, 2] }\nmulti: |\n  line one\n  line two\nanchors: &x { k: v }\nref: *x\n');
console.log(JSON.stringify(doc));
console.log(YAML.stringify({ a: [1, 'two', { three: null }], s: 'needs: quoting', d: new Date(0).toISOString() }));
try { YAML.parse('a: [1, 2'); } catch (e) { console.log('error:', e.name, e.code); }
