import { match, compile, pathToRegexp, parse } from 'path-to-regexp';
const m = match('/users/:id{/:tab}');
console.log(JSON.stringify(m('/users/42/posts')), JSON.stringify(m('/users/7')), m('/nope'));
console.log(compile('/files/*path')({ path: ['a', 'b.txt'] }), pathToRegexp('/a/:b').regexp.source, parse('/x/:y').tokens.length);
