import qs from 'qs';
console.log(JSON.stringify(qs.parse('a[b][c]=d&e[]=1&e[]=2&f=%20x&g[0][h]=i')));
console.log(qs.stringify({ a: { b: [1, 2], c: 'x y' }, d: null }, { encodeValuesOnly: true }), qs.stringify({ a: [1, 2] }, { arrayFormat: 'brackets' }));
