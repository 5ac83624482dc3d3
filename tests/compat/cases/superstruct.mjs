import { object, string, number, array, optional, validate, is, assert, size, refine } from 'superstruct';
const Article = object({ id: number(), title: size(string(), 1, 50), tags: array(string()), author: optional(object({ name: string() })) });
console.log(is({ id: 1, title: 'Hi', tags: ['a'] }, Article));
const [err] = validate({ id: '1', title: '', tags: [2] }, Article);
console.log(err.failures().map((f) => `${f.path.join('.')}:${f.type}`).join(' '));
const Even = refine(number(), 'even', (n) => n % 2 === 0);
try { assert(3, Even); } catch (e) { console.log('assert:', e.message); }
