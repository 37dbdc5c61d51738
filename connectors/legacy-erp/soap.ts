/**
 * Just enough SOAP 1.1 for the legacy ERP: build an envelope, read elements and
 * Faults back. workerd has no DOMParser, so reading is done with regexes that
 * tolerate namespace prefixes, attributes, CDATA and entities.
 */

export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** Escapes text for element content and attribute values; drops characters XML 1.0 cannot carry. */
export function escapeXml(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Resolves the five named entities and numeric references in one pass (so `&amp;lt;` stays `&lt;`). */
export function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** `<soap:Envelope>` with the given header and body fragments (already XML). */
export function soapEnvelope(header: string, body: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    `<soap:Envelope xmlns:soap="${SOAP_ENV_NS}">` +
    `<soap:Header>${header}</soap:Header>` +
    `<soap:Body>${body}</soap:Body>` +
    '</soap:Envelope>'
  );
}

/** The raw inner XML of the first element with this local name (any prefix), or undefined. */
export function innerXml(xml: string, localName: string): string | undefined {
  const open = new RegExp(`<(?:[\\w.-]+:)?${localName}(?:\\s[^>]*)?(/)?>`, 'g');
  const m = open.exec(xml);
  if (!m) return undefined;
  if (m[1]) return '';
  const close = new RegExp(`</(?:[\\w.-]+:)?${localName}\\s*>`, 'g');
  close.lastIndex = open.lastIndex;
  const c = close.exec(xml);
  return c ? xml.slice(open.lastIndex, c.index) : undefined;
}

/** The text of the first element with this local name: CDATA kept verbatim, entities resolved, trimmed. */
export function elementText(xml: string, localName: string): string | undefined {
  const inner = innerXml(xml, localName);
  if (inner === undefined) return undefined;
  let out = '';
  let last = 0;
  for (const m of inner.matchAll(/<!\[CDATA\[([\s\S]*?)\]\]>/g)) {
    out += unescapeXml(stripTags(inner.slice(last, m.index))) + m[1];
    last = m.index! + m[0].length;
  }
  return (out + unescapeXml(stripTags(inner.slice(last)))).trim();
}

const stripTags = (s: string) => s.replace(/<[^>]*>/g, '');

export interface SoapFault {
  /** As sent, e.g. `soap:Client` or `SOAP-ENV:Server.Database`. */
  faultcode: string;
  faultstring: string;
  /** `Client` (the request is wrong: do not retry), `Server` (may pass later) or another class. */
  kind: 'Client' | 'Server' | 'Other';
}

/** The SOAP Fault in a response, if any (SOAP 1.1 `faultcode`, or SOAP 1.2 `Code/Value`). */
export function parseFault(xml: string): SoapFault | undefined {
  const fault = innerXml(xml, 'Fault');
  if (fault === undefined) return undefined;
  const code = elementText(fault, 'faultcode') ?? elementText(innerXml(fault, 'Code') ?? '', 'Value') ?? '';
  const faultstring = elementText(fault, 'faultstring') ?? elementText(innerXml(fault, 'Reason') ?? '', 'Text') ?? '';
  const local = code.replace(/^[^:]*:/, '').split('.')[0];
  const kind =
    local === 'Client' || local === 'Sender'
      ? 'Client'
      : local === 'Server' || local === 'Receiver'
        ? 'Server'
        : 'Other';
  return { faultcode: code, faultstring, kind };
}
