/**
 * Single sign-on (docs/sso.md): the owner's configuration and the login page's questions,
 * through the one typed client. Signing in itself is a browser navigation to
 * `ssoStartUrl(email)`, not a fetch: the provider's pages must be shown.
 */
import { type Schemas, unwrap } from '../../../../api/client.ts';
import { client, type Fetch, via } from '../api';

export type SsoAnswer = Schemas['SsoAnswer'];
export type SsoConfig = NonNullable<SsoAnswer['config']>;
export type SsoSettings = Schemas['SsoSettings'];

/** What the login page says for each `?sso_error=` the callback sends back (worker/src/sso/login-flow.ts). */
export const SSO_ERRORS: Record<string, string> = {
  bad_state:
    'The sign-in could not be matched to this browser (it was already used, or started elsewhere). Start again.',
  expired: 'The sign-in took too long. Start again.',
  not_configured: 'Single sign-on was turned off for your team.',
  provider_error: 'Your identity provider did not complete the sign-in.',
  exchange_failed:
    'Automate could not complete the sign-in with your identity provider. Ask your team owner to check the SSO settings.',
  bad_signature: "The identity provider's answer was not signed with its keys, so it was refused.",
  bad_claims: "The identity provider's answer was not meant for Automate, or lacked your email address.",
  bad_nonce: 'The sign-in could not be matched to this browser. Start again.',
  email_unverified: 'Your identity provider has not verified your email address.',
  wrong_domain: "The account you signed in with is not in your team's single sign-on domains.",
  other_tenant: 'This address already has an account in another team.',
};

export const ssoStartUrl = (email: string) => `/api/auth/sso/start?email=${encodeURIComponent(email)}`;

export const sso = {
  /** Whether the address's domain signs in through single sign-on. */
  lookup: async (email: string) => (await unwrap(client.GET('/auth/sso/lookup', { params: { query: { email } } }))).sso,
  get: (fetchImpl?: Fetch) => unwrap(client.GET('/sso', via(fetchImpl))),
  save: (body: SsoSettings) => unwrap(client.PUT('/sso', { body })),
  remove: () => unwrap(client.DELETE('/sso')),
};
