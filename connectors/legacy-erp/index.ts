/**
 * `legacy_erp.create_order`: the worked example of docs/connectors.md. A connector
 * for a legacy ERP that speaks SOAP 1.1 over HTTP, written and registered exactly as
 * a connector author would write their own.
 *
 * Settings: CONNECTOR_LEGACY_ERP_URL (the SOAP endpoint). Secrets: API_KEY.
 */
import { z } from 'zod';
import {
  ActionSpec,
  ConnectorAdapter,
  ConnectorError,
  describeUrl,
  fetchText,
  isRetryableStatus,
  parseRetryAfter,
  requireSecret,
  requireSetting,
  type ActionInput,
  type ExecutionContext,
} from '../sdk';
import { elementText, escapeXml, innerXml, parseFault, soapEnvelope } from './soap';

export const SOAP_ACTION = 'urn:legacy-erp#CreateOrder';
const ERP_NS = 'urn:legacy-erp';

const QUANTITY = 'a whole number of at least 1';
const Quantity = z.union(
  [
    z.int(QUANTITY).min(1, QUANTITY).max(1_000_000, 'at most 1000000'),
    z
      .string()
      .regex(/^[1-9]\d{0,5}$/, QUANTITY)
      .transform(Number),
  ],
  { error: QUANTITY },
);
const PRICE = 'a decimal amount such as 19.99';
const Price = z.union(
  [
    z.number().min(0, PRICE).max(1e12, PRICE).transform(decimal),
    z
      .string()
      .trim()
      .regex(/^\d{1,12}(\.\d{1,6})?$/, PRICE),
  ],
  { error: PRICE },
);

/** A number as a plain decimal (`1e-7` would not parse in the ERP). */
function decimal(n: number): string {
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(12).replace(/\.?0+$/, '') : s;
}

/**
 * One order line. Shop webhooks name fields differently, so `qty` is accepted for
 * `quantity` and `unit_price`/`unitPrice` for `price`; extra fields are ignored.
 */
const Item = z
  .object({
    sku: z.string().trim().min(1).max(64),
    quantity: Quantity.optional(),
    qty: Quantity.optional(),
    price: Price.optional(),
    unit_price: Price.optional(),
    unitPrice: Price.optional(),
  })
  .superRefine((item, ctx) => {
    if (item.quantity === undefined && item.qty === undefined)
      ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'required (or qty)' });
  })
  .transform((item) => ({
    sku: item.sku,
    quantity: (item.quantity ?? item.qty)!,
    price: item.price ?? item.unit_price ?? item.unitPrice,
  }));

export const CreateOrder = ActionSpec({
  description:
    'Create a sales order in the legacy ERP (SOAP CreateOrder). Safe to retry: the ERP drops duplicates by MessageId.',
  inputs: z.object({
    customer_id: z
      .union([z.string().trim().min(1).max(40), z.int().min(0)], { error: 'a customer id (string or number)' })
      .transform(String),
    items: z.array(Item).min(1).max(500).describe('Order lines: {sku, quantity|qty, price|unit_price?}'),
  }),
  outputs: z.object({
    order_id: z.string().describe('The ERP order number, e.g. ERP-1042'),
    status: z.string().describe('The ERP order status, e.g. Created'),
  }),
});

export class LegacyERPAdapter extends ConnectorAdapter {
  readonly code = 'legacy_erp';
  readonly name = 'Legacy ERP';
  readonly description = 'Create orders in the company ERP through its SOAP 1.1 API.';
  readonly secrets = ['API_KEY'];
  readonly settings = ['URL'];
  readonly actions = { create_order: CreateOrder };

  async execute(action: string, params: ActionInput<typeof CreateOrder>, ctx: ExecutionContext) {
    switch (action) {
      case 'create_order':
        return this.createOrder(params, ctx);
      default:
        throw new ConnectorError(`legacy_erp has no action "${action}"`, { code: 'UNKNOWN_ACTION' });
    }
  }

  private async createOrder(params: ActionInput<typeof CreateOrder>, ctx: ExecutionContext) {
    const url = requireSetting(ctx, 'URL', this.code);
    const apiKey = requireSecret(ctx, 'API_KEY');
    const { response, text } = await fetchText(ctx, url, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SOAP_ACTION}"` },
      body: createOrderEnvelope(params, apiKey, ctx.idempotencyKey),
    });
    const label = `ERP CreateOrder (${describeUrl(url)})`;
    const status = response.status;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));

    // SOAP 1.1 sends Faults with HTTP 500: the faultcode, not the status, says who is at fault.
    const fault = parseFault(text);
    if (fault) {
      // The faultstring is passed on as the ERP wrote it (the engine redacts secrets from errors).
      throw new ConnectorError(
        `${label} fault ${fault.faultcode || '(no faultcode)'}: ${fault.faultstring || '(no faultstring)'}`,
        {
          retryable: fault.kind === 'Server',
          retryAfterMs,
          status,
          code:
            fault.kind === 'Client'
              ? 'SOAP_CLIENT_FAULT'
              : fault.kind === 'Server'
                ? 'SOAP_SERVER_FAULT'
                : 'SOAP_FAULT',
        },
      );
    }
    if (status < 200 || status >= 300) {
      throw new ConnectorError(
        `${label} answered HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`,
        {
          retryable: isRetryableStatus(status),
          retryAfterMs,
          status,
          code: `HTTP_${status}`,
        },
      );
    }
    const result = innerXml(text, 'CreateOrderResponse');
    const orderId = result === undefined ? undefined : elementText(result, 'OrderId');
    if (!orderId)
      throw new ConnectorError(`${label} answered without a CreateOrderResponse/OrderId`, {
        code: 'BAD_RESPONSE',
        status,
      });
    return { order_id: orderId, status: elementText(result!, 'Status') ?? '' };
  }
}

/** The CreateOrder request; `messageId` makes retries idempotent on the ERP side. */
export function createOrderEnvelope(
  params: ActionInput<typeof CreateOrder>,
  apiKey: string,
  messageId: string,
): string {
  const items = params.items
    .map(
      (item) =>
        '<Item>' +
        `<Sku>${escapeXml(item.sku)}</Sku>` +
        `<Quantity>${item.quantity}</Quantity>` +
        (item.price === undefined ? '' : `<UnitPrice>${escapeXml(item.price)}</UnitPrice>`) +
        '</Item>',
    )
    .join('');
  return soapEnvelope(
    `<AuthHeader xmlns="${ERP_NS}"><ApiKey>${escapeXml(apiKey)}</ApiKey></AuthHeader>` +
      `<MessageId xmlns="${ERP_NS}">${escapeXml(messageId)}</MessageId>`,
    `<CreateOrder xmlns="${ERP_NS}"><CustomerId>${escapeXml(params.customer_id)}</CustomerId><Items>${items}</Items></CreateOrder>`,
  );
}
