/** Rendered markup; plain strings passed to `element` are text and get escaped, Xml is inserted as is. */
export class Xml {
  constructor(readonly markup: string) {}
}

export type XmlContent = Xml | string | number | boolean | undefined;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** `undefined` children are left out, so optional elements can be written inline. */
export function element(name: string, ...content: XmlContent[]): Xml {
  const inner = content
    .map((c) => (c === undefined ? '' : c instanceof Xml ? c.markup : escapeXml(String(c))))
    .join('');
  return new Xml(`<${name}>${inner}</${name}>`);
}

export const xmlDocument = (root: Xml): string => `<?xml version="1.0" encoding="UTF-8"?>\n${root.markup}`;
