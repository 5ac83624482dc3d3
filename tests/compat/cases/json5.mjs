import JSON5 from 'json5';
const v = JSON5.parse("{ unquoted: 'single', trailing: [1, 2,], hex: 0xFF, inf: Infinity, /* c */ n: .5, s: 'a\\\nb', }");
console.log(JSON.stringify(v), JSON5.stringify({ a: [1, { b: 'x' }], 'c-d': null }, null, 2));
