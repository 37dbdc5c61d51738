/** Connectors a tenant might add, registered by the copilot tests: drafting must find them by their own words. */
import { z } from 'zod';
import { ActionSpec, ConnectorAdapter, ConnectorError, getConnector, register } from '../../../connectors';

export class AcmeCrmConnector extends ConnectorAdapter {
  readonly code = 'acme_crm';
  readonly name = 'Acme CRM';
  readonly description = 'Contacts and deals in Acme CRM.';
  readonly secrets = ['API_KEY'];
  readonly actions = {
    create_contact: ActionSpec({
      description: 'Create or update a contact (person) in Acme CRM.',
      inputs: z.object({ email: z.string(), name: z.string().optional() }),
      outputs: z.object({ contact_id: z.string() }),
    }),
    create_deal: ActionSpec({
      description: 'Open a deal (sales opportunity) in the pipeline.',
      inputs: z.object({ title: z.string(), amount: z.number(), contact_email: z.string().optional() }),
      outputs: z.object({ deal_id: z.string() }),
    }),
  };
  async execute(): Promise<never> {
    throw new ConnectorError('not reachable in tests');
  }
}

export class MailerConnector extends ConnectorAdapter {
  readonly code = 'mailer';
  readonly name = 'Mailer';
  readonly description = 'Transactional email through the company mail service.';
  readonly secrets = ['MAILER_API_KEY'];
  readonly actions = {
    send_email: ActionSpec({
      description: 'Send an email to one recipient.',
      inputs: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
      outputs: z.object({ message_id: z.string() }),
    }),
  };
  async execute(): Promise<never> {
    throw new ConnectorError('not reachable in tests');
  }
}

/** Registers both once per isolate (the registry throws on a second registration). */
export function registerCustomConnectors() {
  if (!getConnector('acme_crm')) register(AcmeCrmConnector);
  if (!getConnector('mailer')) register(MailerConnector);
}
