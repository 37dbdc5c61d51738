/**
 * Worker-side helpers for tests that drive the stub servers (connectors/testing/stub-server.ts)
 * through their control API. They run inside workerd and reach the stub at `env.STUB_URL`.
 *
 * The stub is shared by every test file running in parallel: give each test its own
 * path (`uniquePath('/http')`, `uniqueNamespace()`), never reset the whole stub.
 */
import { env } from 'cloudflare:test';

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  delayMs?: number;
  /** Destroy the connection instead of answering (a network error for the client). */
  drop?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  at: number;
}

/** Base URL of the stub server, e.g. `http://127.0.0.1:41234`. */
export function stubUrl(): string {
  const url = (env as { STUB_URL?: string }).STUB_URL;
  if (!url) throw new Error('env.STUB_URL is not bound: is connectors/testing/global-setup.ts the globalSetup?');
  return url;
}

/** A path no other test uses, e.g. `/http/t-5f2c...`. */
export function uniquePath(prefix = '/http'): string {
  return `${prefix}/t-${crypto.randomUUID()}`;
}

/** A namespace for the Slack and ERP stubs: `/slack/<ns>/api`, `/erp/<ns>/soap`. */
export function uniqueNamespace(): string {
  return `ns-${crypto.randomUUID()}`;
}

async function control(method: string, op: string, body?: unknown): Promise<any> {
  const res = await fetch(`${stubUrl()}/__control/${op}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`the stub server's control API (${op}) answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** The next requests to `path` get `responses` in order, then the route's default (or the last one again). */
export async function script(
  path: string,
  responses: ScriptedResponse[],
  then: 'default' | 'repeat-last' = 'default',
): Promise<void> {
  await control('POST', 'script', { path, responses, then });
}

/** Requests the stub received on exactly `path` (no query string), oldest first. */
export async function requests(path: string): Promise<RecordedRequest[]> {
  return control('GET', `requests?path=${encodeURIComponent(path)}`);
}

/** Forgets the scripts and recorded requests of `path`. Without a path: everything (never in parallel tests). */
export async function reset(path?: string): Promise<void> {
  await control('POST', 'reset', path === undefined ? {} : { path });
}

/** Orders the ERP stub created in a namespace (`''`: the default `/erp/soap`). */
export async function erpOrders(ns = '', filter: { messageId?: string; customerId?: string } = {}): Promise<any[]> {
  const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]);
  const res = await fetch(`${stubUrl()}/erp${ns ? `/${ns}` : ''}/orders?${q}`);
  if (!res.ok) throw new Error(`GET /erp/orders answered ${res.status}`);
  return res.json();
}

/** A SOAP 1.1 Fault response to script, e.g. `script('/erp/ns/soap', [soapFault('soap:Server', 'DB locked')])`. */
export function soapFault(faultcode: string, faultstring: string, status = 500): ScriptedResponse {
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return {
    status,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body:
      '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
      `<soap:Fault><faultcode>${esc(faultcode)}</faultcode><faultstring>${esc(faultstring)}</faultstring></soap:Fault>` +
      '</soap:Body></soap:Envelope>',
  };
}
