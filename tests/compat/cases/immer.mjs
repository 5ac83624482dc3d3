import { produce, enableMapSet, enablePatches, applyPatches, produceWithPatches } from 'immer';
enableMapSet();
enablePatches();
const base = { todos: [{ id: 1, done: false }, { id: 2, done: false }], tags: new Map([['a', 1]]) };
const next = produce(base, (d) => { d.todos[1].done = true; d.todos.push({ id: 3, done: false }); d.tags.set('b', 2); });
console.log(next.todos.length, next.todos[0] === base.todos[0], next.todos[1] === base.todos[1], Object.isFrozen(next), [...next.tags.keys()].join());
const [, patches, inverse] = produceWithPatches({ n: 1, list: [1] }, (d) => { d.n++; d.list.push(2); });
console.log(JSON.stringify(patches), JSON.stringify(applyPatches({ n: 2, list: [1, 2] }, inverse)));
