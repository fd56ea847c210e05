'use strict';
// The function bundles alias iconv-lite to this file instead of carrying its ~480 KB of code tables. Its one
// user there is urllib (under ali-oss), which asks it only to decode a text response whose charset Node's
// Buffer does not know. OSS answers in UTF-8 and ossguard handles only UTF-8 text, so that never happens
// in practice; should it, the runtime's WHATWG TextDecoder decodes what it knows and throws otherwise,
// which urllib catches and then leaves the body undecoded.
exports.decode = (buffer, charset) => new TextDecoder(charset).decode(buffer);
