import { XMLParser, XMLBuilder, XMLValidator } from 'fast-xml-parser';
const xml = '<?xml version="1.0"?><catalog><book id="b1" lang="en"><title>Kiln &amp; QuickJS</title><price>9.5</price></book><book id="b2"><title>Toro</title><price>12</price></book></catalog>';
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });
const obj = parser.parse(xml);
console.log(JSON.stringify(obj));
console.log(new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: false }).build({ root: { '@a': '1', item: ['x', 'y'] } }));
console.log(XMLValidator.validate('<a><b></a>') === true ? 'valid' : 'invalid');
