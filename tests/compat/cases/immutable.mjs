import { Map, List, Set, fromJS, Record, Seq } from 'immutable';
const m1 = Map({ a: 1, b: 2 });
const m2 = m1.set('b', 50).update('a', (x) => x + 1);
console.log(m1.get('b'), m2.get('b'), m2.get('a'), m1.equals(Map({ b: 2, a: 1 })));
const deep = fromJS({ users: [{ name: 'x', roles: ['a'] }] }).updateIn(['users', 0, 'roles'], (r) => r.push('b'));
console.log(JSON.stringify(deep.toJS()), List([3, 1, 2]).sort().toArray().join(), Set([1, 1, 2]).size);
const Point = Record({ x: 0, y: 0 });
console.log(new Point({ x: 3 }).toString(), Seq([1, 2, 3, 4]).filter((x) => x % 2).map((x) => x * 10).toArray().join());
