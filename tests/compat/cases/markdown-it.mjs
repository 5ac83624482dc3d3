import MarkdownIt from 'markdown-it';
const md = new MarkdownIt({ linkify: true, typographer: true });
console.log(md.render('## Hello\n\nVisit https://example.com -- "quoted" (c)\n\n* [x] item\n\n1. first\n2. second\n\n<b>raw</b>\n'));
console.log(md.renderInline('__bold__ ~~no~~'), md.parse('# a', {}).length);
