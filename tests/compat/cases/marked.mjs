import { marked } from 'marked';
console.log(marked.parse('# Title\n\nSome *emphasis* and **strong** `code` [link](http://x.y).\n\n- a\n- b\n\n| h1 | h2 |\n|----|----|\n| c  | d  |\n\n```js\nlet x = 1 < 2;\n```\n'));
console.log(JSON.stringify(marked.lexer('> quote\n\n1. one').map((t) => t.type)));
