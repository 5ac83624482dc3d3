import Papa from 'papaparse';
const r = Papa.parse('name,age,city\n"Smith, J",42,"New\nYork"\nDoe,7,Paris\n', { header: true, dynamicTyping: true, skipEmptyLines: true });
console.log(JSON.stringify(r.data), r.errors.length, r.meta.fields.join('|'));
console.log(JSON.stringify(Papa.unparse([{ a: 1, b: 'x,y' }, { a: 2, b: 'q"q' }])));
