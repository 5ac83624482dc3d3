import Mustache from 'mustache';
const view = { title: 'Joe & <Co>', items: [{ name: 'a', price: 1.5 }, { name: 'b', price: 2 }], calc: () => 2 + 4, empty: [] };
console.log(Mustache.render('{{title}} {{{title}}} {{#items}}[{{name}}:{{price}}]{{/items}}{{^empty}} none{{/empty}} {{calc}} {{> p}}', view, { p: 'partial {{items.length}}' }));
