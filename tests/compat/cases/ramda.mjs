import * as R from 'ramda';
const people = [{ name: 'ann', age: 30 }, { name: 'bob', age: 25 }, { name: 'cy', age: 35 }];
console.log(R.pipe(R.filter(R.propSatisfies(R.gt(R.__, 26), 'age')), R.map(R.prop('name')), R.join(','))(people));
console.log(JSON.stringify(R.sortBy(R.prop('age'), people).map(R.pick(['name']))), R.sum(R.range(1, 11)), JSON.stringify(R.groupBy((p) => (p.age > 28 ? 'old' : 'young'), people)));
const lens = R.lensPath(['a', 'b']);
console.log(JSON.stringify(R.over(lens, R.inc, { a: { b: 1 } })), R.curry((a, b, c) => a + b + c)(1)(2)(3), JSON.stringify(R.zipObj(['x', 'y'], [1, 2])));
