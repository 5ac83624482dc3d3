import { v4, v5, v7, validate, version, parse, stringify, NIL } from 'uuid';
const a = v4();
console.log(validate(a), version(a), a.length, v4() !== a);
console.log(v5('hello', v5.URL), v5('kiln', '6ba7b811-9dad-11d1-80b4-00c04fd430c8'));
console.log(version(v7()), stringify(parse('6ba7b811-9dad-11d1-80b4-00c04fd430c8')), validate(NIL), validate('nope'));
