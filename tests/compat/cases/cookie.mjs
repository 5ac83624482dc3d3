import { parseCookie, stringifyCookie, stringifySetCookie, parseSetCookie } from 'cookie';
console.log(JSON.stringify(parseCookie('foo=bar; equation=E%3Dmc%5E2; empty=; q="quoted"')));
console.log(stringifyCookie({ a: '1', b: 'x y' }));
console.log(stringifySetCookie({ name: 'sid', value: 'a b;c', httpOnly: true, maxAge: 3600, path: '/', sameSite: 'lax', secure: true }));
console.log(JSON.stringify(parseSetCookie('id=a3fWa; Max-Age=2592000; Path=/docs; Secure; HttpOnly; SameSite=Strict')));
