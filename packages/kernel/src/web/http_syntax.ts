// HTTP syntax shared by Headers, Request and the kiln:http parser (RFC 9110 §5.6.2 tokens,
// §9.1 methods). Regular expressions, because QuickJS runs them natively while a per-char
// JS loop costs ~90 ns a character.

/** token = 1*tchar (RFC 9110 §5.6.2), the whole string. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
