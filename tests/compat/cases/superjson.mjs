import superjson from 'superjson';
const value = { when: new Date(Date.UTC(2024, 0, 2)), big: 1234567890123456789012345678901234567890n, set: new Set([1, 2]), map: new Map([['k', { r: /ab+c/gi }]]), u: undefined, n: NaN };
const { json, meta } = superjson.serialize(value);
console.log(JSON.stringify(json));
console.log(JSON.stringify(meta));
const back = superjson.parse(superjson.stringify(value));
console.log(back.when.toISOString(), typeof back.big, back.big.toString(), back.set.has(2), back.map.get('k').r.flags, 'u' in back, Number.isNaN(back.n));
