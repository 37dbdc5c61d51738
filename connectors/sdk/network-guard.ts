/**
 * SSRF guard for URLs that come from workflow authors (tenants), not operators.
 *
 * Workers cannot resolve DNS before `fetch`, so this guards what the URL itself says:
 * literal IP addresses (in any form the URL parser normalises: `http://2130706433/`,
 * `http://0x7f.1/`, `http://[::ffff:127.0.0.1]/`) and special-use names such as
 * `localhost`. A public name that resolves to a private address gets through; on
 * Cloudflare that is harmless because Cloudflare's network does not route Workers'
 * fetches to private ranges. The guard matters most where the Worker runs elsewhere
 * (`wrangler dev`, self-hosted workerd), which is also where private addresses are
 * legitimately needed: hence `allowPrivateNetwork`.
 */
import type { ExecutionContext } from './connector-adapter';
import { ConnectorError } from './connector-error';

/**
 * Throws a non-retryable ConnectorError (code `BLOCKED_URL`) unless `url` is http(s)
 * and, when `context.allowPrivateNetwork` is false, its host is not loopback, private,
 * link-local, multicast, reserved or a special-use name. Returns the parsed URL.
 *
 * @example
 * ```ts
 * const target = assertPublicUrl(params.url, ctx); // before every fetch, redirects included
 * ```
 */
export function assertPublicUrl(url: string | URL, context: Pick<ExecutionContext, 'allowPrivateNetwork'>): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new ConnectorError('Invalid URL', { code: 'BLOCKED_URL' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConnectorError(`Refusing ${parsed.protocol} URL: only http and https are allowed`, {
      code: 'BLOCKED_URL',
    });
  }
  if (!context.allowPrivateNetwork) {
    const reason = privateHostReason(parsed.hostname);
    if (reason) {
      throw new ConnectorError(`Refusing to call ${parsed.hostname}: ${reason}; only public addresses are allowed`, {
        code: 'BLOCKED_URL',
      });
    }
  }
  return parsed;
}

/**
 * Why a URL host (as `URL.hostname` gives it) is not a public internet destination,
 * or `undefined` if nothing in the name says so.
 *
 * @example
 * ```ts
 * privateHostReason('169.254.169.254'); // 'a link-local address'
 * privateHostReason('api.example.com'); // undefined
 * ```
 */
export function privateHostReason(hostname: string): string | undefined {
  const host = hostname.toLowerCase().replace(/\.+$/, '');
  if (host.startsWith('[') && host.endsWith(']')) {
    const groups = parseIPv6(host.slice(1, -1));
    return groups ? ipv6Reason(groups) : 'an unparseable IPv6 address';
  }
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return ipv4Reason(v4);
  if (host === '') return 'an empty host';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'a loopback name';
  // Special-use names that never denote a public host (RFC 6761, 6762, 8375; ICANN .internal).
  if (/(^|\.)(local|internal|home\.arpa|localdomain)$/.test(host)) return 'a private-network name';
  // A single label (`db`, `metadata`) only resolves through a local search domain.
  if (!host.includes('.')) return 'a single-label (local) name';
  return undefined;
}

const V4_BLOCKS: [string, number, string][] = [
  ['0.0.0.0', 8, 'a "this network" address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];

function ipv4Reason(addr: number): string | undefined {
  for (const [base, bits, reason] of V4_BLOCKS) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((addr & mask) >>> 0 === (parseIPv4(base)! & mask) >>> 0) return reason;
  }
  return undefined;
}

function ipv6Reason(g: number[]): string | undefined {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embeddedV4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  if (zeroUpTo(8)) return 'the unspecified address';
  if (zeroUpTo(7) && g[7] === 1) return 'a loopback address';
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) forms.
  if (zeroUpTo(5) && (g[5] === 0xffff || g[5] === 0)) return ipv4Reason(embeddedV4(g[6], g[7]));
  // NAT64 (64:ff9b::a.b.c.d) reaches the embedded IPv4 address; 64:ff9b:1::/48 is local-use.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return ipv4Reason(embeddedV4(g[6], g[7]));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'a local-use NAT64 address';
  // 6to4 (2002:AABB:CCDD::/48) embeds an IPv4 address.
  if (g[0] === 0x2002) return ipv4Reason(embeddedV4(g[1], g[2]));
  if ((g[0] & 0xfe00) === 0xfc00) return 'a unique local (private) address';
  if ((g[0] & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((g[0] & 0xffc0) === 0xfec0) return 'a site-local address';
  if ((g[0] & 0xff00) === 0xff00) return 'a multicast address';
  return undefined;
}

/** Dotted-decimal IPv4 (what URL normalises every IPv4 form to) as a 32-bit number. */
function parseIPv4(host: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** An IPv6 address (no brackets, optional `%zone`) as eight 16-bit groups. */
function parseIPv6(text: string): number[] | undefined {
  let s = text.replace(/%.*$/, '');
  const tail: number[] = [];
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (v4) {
    const n = parseIPv4(v4[1]);
    if (n === undefined) return undefined;
    tail.push(n >>> 16, n & 0xffff);
    s = s.slice(0, -v4[1].length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((h) => (/^[0-9a-f]{1,4}$/i.test(h) ? parseInt(h, 16) : NaN));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const explicit = head.length + rest.length + tail.length;
  if ([...head, ...rest].some(Number.isNaN)) return undefined;
  if (halves.length === 1 && explicit !== 8) return undefined;
  if (halves.length === 2 && explicit > 7) return undefined;
  return [...head, ...new Array(8 - explicit).fill(0), ...rest, ...tail];
}
