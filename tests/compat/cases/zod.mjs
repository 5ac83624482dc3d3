import { z } from 'zod';
const User = z.object({ name: z.string().min(2), age: z.number().int().positive(), email: z.email(), tags: z.array(z.string()).default([]) });
console.log(JSON.stringify(User.parse({ name: 'Ada', age: 36, email: 'ada@example.com' })));
const bad = User.safeParse({ name: 'A', age: -1, email: 'nope' });
console.log(bad.success, bad.error.issues.map((i) => `${i.path.join('.')}:${i.code}`).join(' '));
console.log(z.coerce.number().parse('42') + 1, z.enum(['a', 'b']).options.join('|'));
console.log(JSON.stringify(z.toJSONSchema(z.object({ id: z.uuid(), n: z.number().max(5) }))));
