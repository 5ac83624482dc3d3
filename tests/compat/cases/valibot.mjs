import * as v from 'valibot';
const Schema = v.object({ email: v.pipe(v.string(), v.email()), password: v.pipe(v.string(), v.minLength(8)), role: v.optional(v.picklist(['admin', 'user']), 'user') });
console.log(JSON.stringify(v.parse(Schema, { email: 'jane@example.com', password: '12345678' })));
const r = v.safeParse(Schema, { email: 'x', password: 'short' });
console.log(r.success, r.issues.map((i) => `${v.getDotPath(i)}:${i.type}`).join(' '));
console.log(JSON.stringify(v.flatten(r.issues).nested));
