import { stringify, parse, uneval } from 'devalue';
const obj = { a: 1, d: new Date(0), s: new Set(['x']), m: new Map([[1, 'one']]), r: /x/g, n: -0, inf: Infinity };
obj.self = obj;
const s = stringify(obj);
console.log(s);
const back = parse(s);
console.log(back.self === back, back.d.getTime(), back.s.has('x'), back.m.get(1), Object.is(back.n, -0));
console.log(uneval({ x: [1, 'two', null, undefined] }));
