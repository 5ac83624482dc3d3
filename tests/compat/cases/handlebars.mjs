import Handlebars from 'handlebars';
Handlebars.registerHelper('upper', (s) => String(s).toUpperCase());
Handlebars.registerPartial('li', '<li>{{upper name}}{{#if @last}}!{{/if}}</li>');
const t = Handlebars.compile('<h1>{{title}}</h1><ul>{{#each people}}{{> li}}{{/each}}</ul>{{#with meta}}{{count}} people{{/with}}');
console.log(t({ title: 'A & B', people: [{ name: 'ann' }, { name: 'bob' }], meta: { count: 2 } }));
