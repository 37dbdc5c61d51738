import { describe, expect, it } from 'vitest';
import { ConnectorError, catalog, getConnector, runAction } from '..';
import { testContext } from '../testing/context';
import { erpOrders, requests, script, soapFault, stubUrl, uniqueNamespace } from '../testing/stub-client';
import { LegacyERPAdapter, SOAP_ACTION } from '.';
import { elementText, escapeXml, parseFault, unescapeXml } from './soap';

const API_KEY = 'erp-test-key';

/** Each test gets its own ERP (`/erp/<ns>/soap`) with its own order book. */
function erpStub() {
  const ns = uniqueNamespace();
  const endpoint = `/erp/${ns}/soap`;
  const settings = { URL: `${stubUrl()}${endpoint}` };
  const createOrder = (params: Record<string, unknown>, overrides: Parameters<typeof testContext>[0] = {}) =>
    runAction(
      'legacy_erp',
      'create_order',
      params,
      testContext({ secrets: { API_KEY }, settings, ...overrides }),
    ) as Promise<any>;
  return { ns, endpoint, settings, createOrder };
}

const ORDER = {
  customer_id: 207119551,
  items: [
    { sku: 'CHAIR-01', quantity: 4, price: 250 },
    { sku: 'DESK-01', qty: '1', unit_price: '199.90' },
  ],
};

async function rejection(p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err, 'expected the action to fail').toBeInstanceOf(ConnectorError);
  return err;
}

describe('legacy_erp.create_order: happy path', () => {
  it('sends a SOAP 1.1 CreateOrder and returns the ERP order id', async () => {
    const { ns, endpoint, createOrder } = erpStub();
    const out = await createOrder(ORDER, { idempotencyKey: 'run-7:create_erp_order' });
    expect(out).toEqual({ order_id: expect.stringMatching(/^ERP-\d+$/), status: 'Created' });

    const [seen] = await requests(endpoint);
    expect(seen.method).toBe('POST');
    expect(seen.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(seen.headers.soapaction).toBe(`"${SOAP_ACTION}"`);
    const xml = seen.body as string;
    expect(xml).toContain('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">');
    expect(elementText(xml, 'ApiKey')).toBe(API_KEY);
    expect(elementText(xml, 'MessageId')).toBe('run-7:create_erp_order');
    expect(xml).toMatch(/<soap:Body><CreateOrder xmlns="urn:legacy-erp"><CustomerId>207119551<\/CustomerId><Items>/);
    expect(xml).toContain('<Item><Sku>CHAIR-01</Sku><Quantity>4</Quantity><UnitPrice>250</UnitPrice></Item>');
    expect(xml).toContain('<Item><Sku>DESK-01</Sku><Quantity>1</Quantity><UnitPrice>199.90</UnitPrice></Item>');

    const orders = await erpOrders(ns);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      orderId: out.order_id,
      customerId: '207119551',
      messageId: 'run-7:create_erp_order',
      items: [
        { sku: 'CHAIR-01', quantity: 4, unitPrice: '250' },
        { sku: 'DESK-01', quantity: 1, unitPrice: '199.90' },
      ],
    });
  });

  it('is idempotent by MessageId: the same key twice makes one order', async () => {
    const { ns, endpoint, createOrder } = erpStub();
    const key = `run-${crypto.randomUUID()}:create_erp_order`;
    const first = await createOrder(ORDER, { idempotencyKey: key, attempt: 1 });
    const second = await createOrder(ORDER, { idempotencyKey: key, attempt: 2 });
    expect(second.order_id).toBe(first.order_id);
    expect(await requests(endpoint)).toHaveLength(2);
    expect(await erpOrders(ns)).toHaveLength(1);

    const other = await createOrder(ORDER, { idempotencyKey: `${key}-other-run` });
    expect(other.order_id).not.toBe(first.order_id);
    expect(await erpOrders(ns)).toHaveLength(2);
  });

  it('escapes XML in values and unescapes it in answers', async () => {
    const { ns, endpoint, createOrder } = erpStub();
    await createOrder({ customer_id: 'C-1', items: [{ sku: 'A&B <"x">', quantity: 1 }] });
    const xml = (await requests(endpoint))[0].body as string;
    expect(xml).toContain('<Sku>A&amp;B &lt;&quot;x&quot;&gt;</Sku>');
    expect((await erpOrders(ns))[0].items[0].sku).toBe('A&B <"x">');

    const e2 = erpStub();
    await script(e2.endpoint, [
      {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><erp:CreateOrderResponse xmlns:erp="urn:legacy-erp"><erp:OrderId>ERP-&#55;&amp;1</erp:OrderId><erp:Status><![CDATA[On hold <credit>]]></erp:Status></erp:CreateOrderResponse></s:Body></s:Envelope>',
      },
    ]);
    expect(await e2.createOrder(ORDER)).toEqual({ order_id: 'ERP-7&1', status: 'On hold <credit>' });
  });
});

describe('legacy_erp.create_order: faults and failures', () => {
  it('a soap:Client fault for a bad API key is not retryable and keeps the faultstring', async () => {
    const { ns, createOrder } = erpStub();
    const err = await rejection(createOrder(ORDER, { secrets: { API_KEY: 'wrong-key-123' } }));
    expect(err).toMatchObject({ retryable: false, code: 'SOAP_CLIENT_FAULT', status: 500 });
    expect(err.message).toContain('soap:Client');
    expect(err.message).toContain('Authentication failed');
    expect(await erpOrders(ns)).toHaveLength(0);
  });

  it('adds the API key to no message of its own (only the ERP echoes it)', async () => {
    const { endpoint, createOrder } = erpStub();
    await script(endpoint, [soapFault('soap:Client', 'Customer not found')]);
    const err = await rejection(createOrder(ORDER));
    expect(err.message).not.toContain(API_KEY);
    expect(err.stack ?? '').not.toContain(API_KEY);
  });

  it('a soap:Client fault for an unknown customer is not retryable', async () => {
    const { createOrder } = erpStub();
    const err = await rejection(createOrder({ ...ORDER, customer_id: 'missing-42' }));
    expect(err).toMatchObject({ retryable: false, code: 'SOAP_CLIENT_FAULT' });
    expect(err.message).toContain("Customer 'missing-42' not found");
  });

  it('a soap:Server fault is retryable, and the retry creates the order', async () => {
    const { ns, endpoint, createOrder } = erpStub();
    await script(endpoint, [soapFault('soap:Server', 'Database is locked, try again')]);
    const key = `run-${crypto.randomUUID()}:create_erp_order`;
    const err = await rejection(createOrder(ORDER, { idempotencyKey: key }));
    expect(err).toMatchObject({ retryable: true, code: 'SOAP_SERVER_FAULT', status: 500 });
    expect(err.message).toContain('Database is locked');
    const out = await createOrder(ORDER, { idempotencyKey: key, attempt: 2 });
    expect(out.order_id).toMatch(/^ERP-/);
    expect(await erpOrders(ns)).toHaveLength(1);
  });

  it('recognises other prefixes and dotted fault codes', async () => {
    const { endpoint, createOrder } = erpStub();
    await script(endpoint, [
      soapFault('SOAP-ENV:Server.Timeout', 'busy'),
      soapFault('env:Client.Validation', 'bad sku'),
    ]);
    expect((await rejection(createOrder(ORDER))).retryable).toBe(true);
    expect((await rejection(createOrder(ORDER))).retryable).toBe(false);
  });

  it('HTTP 503 and 429 without a fault are retryable, 429 with Retry-After', async () => {
    const { endpoint, createOrder } = erpStub();
    await script(endpoint, [
      { status: 503, body: 'Service Unavailable' },
      { status: 429, headers: { 'retry-after': '5' } },
    ]);
    expect(await rejection(createOrder(ORDER))).toMatchObject({ retryable: true, status: 503 });
    expect(await rejection(createOrder(ORDER))).toMatchObject({ retryable: true, status: 429, retryAfterMs: 5000 });
  });

  it('HTTP 400/404 without a fault are not retryable', async () => {
    const { endpoint, createOrder } = erpStub();
    await script(endpoint, [{ status: 404, body: 'Not Found' }]);
    expect(await rejection(createOrder(ORDER))).toMatchObject({ retryable: false, status: 404 });
  });

  it('a 200 without an OrderId is a non-retryable bad response', async () => {
    const { endpoint, createOrder } = erpStub();
    await script(endpoint, [
      { status: 200, headers: { 'content-type': 'text/xml' }, body: '<soap:Envelope><soap:Body/></soap:Envelope>' },
    ]);
    expect(await rejection(createOrder(ORDER))).toMatchObject({ retryable: false, code: 'BAD_RESPONSE' });
  });

  it('a timeout is retryable', async () => {
    const { endpoint } = erpStub();
    await script(endpoint, [{ status: 200, delayMs: 3000 }]);
    const fast = testContext({
      secrets: { API_KEY },
      settings: { URL: stubUrl() + endpoint },
      signal: AbortSignal.timeout(200),
    });
    const err = await rejection(runAction('legacy_erp', 'create_order', ORDER, fast));
    expect(err.retryable).toBe(true);
  });

  it('missing URL setting or API_KEY secret: non-retryable, naming what to configure', async () => {
    const noUrl = await rejection(
      runAction('legacy_erp', 'create_order', ORDER, testContext({ secrets: { API_KEY } })),
    );
    expect(noUrl).toMatchObject({ retryable: false, code: 'MISSING_SETTING' });
    expect(noUrl.message).toContain('CONNECTOR_LEGACY_ERP_URL');
    const { settings } = erpStub();
    const noKey = await rejection(runAction('legacy_erp', 'create_order', ORDER, testContext({ settings })));
    expect(noKey).toMatchObject({ retryable: false, code: 'MISSING_SECRET' });
    expect(noKey.message).toContain('API_KEY');
  });
});

describe('legacy_erp.create_order: params', () => {
  it('accepts what shop webhooks send and names what is wrong', async () => {
    const { createOrder, endpoint } = erpStub();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ items: ORDER.items }, /^params\.customer_id: /],
      [{ customer_id: 1, items: [] }, /^params\.items: /],
      [{ customer_id: 1, items: [{ sku: 'A' }] }, /^params\.items\[0\]\.quantity: required \(or qty\)/],
      [{ customer_id: 1, items: [{ sku: 'A', qty: 0 }] }, /^params\.items\[0\]\.qty: a whole number of at least 1$/],
      [
        { customer_id: 1, items: [{ sku: 'A', quantity: 1, price: '12,50' }] },
        /^params\.items\[0\]\.price: a decimal amount/,
      ],
      [
        { customer_id: 1, items: [{ sku: 'A', quantity: '0' }] },
        /^params\.items\[0\]\.quantity: a whole number of at least 1$/,
      ],
      [
        { customer_id: 1, items: [{ sku: 'A', quantity: 1.5 }] },
        /^params\.items\[0\]\.quantity: a whole number of at least 1$/,
      ],
      [
        { customer_id: 1, items: [{ sku: 'A', quantity: 1, price: -1 }] },
        /^params\.items\[0\]\.price: a decimal amount/,
      ],
      [{ customer_id: 1, items: [{ quantity: 1 }] }, /^params\.items\[0\]\.sku: /],
    ];
    for (const [params, message] of cases) {
      const err = await rejection(createOrder(params));
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(message);
    }
    expect(await requests(endpoint)).toHaveLength(0);
  });

  it('rejects an unknown action, non-retryable', async () => {
    expect(await rejection(runAction('legacy_erp', 'cancel_order', {}, testContext()))).toMatchObject({
      retryable: false,
      code: 'UNKNOWN_ACTION',
    });
  });

  it('is registered as LegacyERPAdapter and described in the catalog', () => {
    expect(getConnector('legacy_erp')).toBeInstanceOf(LegacyERPAdapter);
    const entry = catalog().find((c) => c.code === 'legacy_erp')!;
    expect(entry).toMatchObject({ name: 'Legacy ERP', secrets: ['API_KEY'], settings: ['URL'] });
    expect(entry.actions[0]).toMatchObject({
      name: 'create_order',
      inputs: {
        type: 'object',
        required: ['customer_id', 'items'],
        properties: { items: { type: 'array', minItems: 1 } },
      },
      outputs: { type: 'object', required: ['order_id', 'status'] },
    });
  });
});

describe('soap helpers', () => {
  it('round-trips text through escape and unescape, entities resolved once', () => {
    const text = `Tom & Jerry's <"quoted"> &amp;`;
    expect(unescapeXml(escapeXml(text))).toBe(text);
    expect(unescapeXml('&amp;lt;')).toBe('&lt;');
    expect(escapeXml('bell\u0007')).toBe('bell\uFFFD');
  });

  it('parses SOAP 1.1 and 1.2 faults', () => {
    expect(
      parseFault('<a:Fault><faultcode>a:Client</faultcode><faultstring>no &amp; way</faultstring></a:Fault>'),
    ).toEqual({
      faultcode: 'a:Client',
      faultstring: 'no & way',
      kind: 'Client',
    });
    expect(
      parseFault(
        '<env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en">down</env:Text></env:Reason></env:Fault>',
      ),
    ).toMatchObject({ faultstring: 'down', kind: 'Server' });
    expect(parseFault('<CreateOrderResponse/>')).toBeUndefined();
  });
});
