/**
 * OpenID Connect Discovery 1.0: the provider's metadata, fetched from
 * `<issuer>/.well-known/openid-configuration` and checked before a configuration is saved:
 * its `issuer` must be exactly the one configured (OIDC Discovery §4.3, which stops one
 * provider from speaking for another), and it must offer the authorization code flow.
 */
import { z } from 'zod';
import type { Env } from '../env';
import { checkProviderUrl, fetchProviderJson, ProviderError } from './provider-fetch';

const Metadata = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  response_types_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
});

/** What a sign-in needs from the metadata; kept with the configuration. */
export interface OidcDiscovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** How the client authenticates at the token endpoint (client_secret_basic unless only _post is offered). */
  tokenAuthMethod: 'client_secret_basic' | 'client_secret_post';
}

/** The discovery URL for an issuer (a trailing `/` is not doubled). */
export const discoveryUrl = (issuer: string) => `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;

/** Fetches and checks the issuer's metadata; ProviderError says what is wrong with it. */
export async function discover(env: Env, issuer: string): Promise<OidcDiscovery> {
  const parsed = Metadata.safeParse(await fetchProviderJson(env, discoveryUrl(issuer)));
  if (!parsed.success)
    throw new ProviderError(
      `the discovery document lacks ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
      'bad_answer',
    );
  const m = parsed.data;
  if (m.issuer !== issuer)
    throw new ProviderError(
      `the discovery document names issuer "${m.issuer.slice(0, 200)}", not "${issuer}"; use exactly the provider's issuer`,
      'bad_answer',
    );
  if (m.response_types_supported && !m.response_types_supported.includes('code'))
    throw new ProviderError(
      'the provider does not offer the authorization code flow (response type "code")',
      'bad_answer',
    );
  if (m.code_challenge_methods_supported && !m.code_challenge_methods_supported.includes('S256'))
    throw new ProviderError('the provider does not offer PKCE with S256', 'bad_answer');
  for (const url of [m.authorization_endpoint, m.token_endpoint, m.jwks_uri]) checkProviderUrl(env, url);
  const methods = m.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  const tokenAuthMethod = methods.includes('client_secret_basic')
    ? 'client_secret_basic'
    : methods.includes('client_secret_post')
      ? 'client_secret_post'
      : null;
  if (!tokenAuthMethod)
    throw new ProviderError(
      'the token endpoint accepts neither client_secret_basic nor client_secret_post',
      'bad_answer',
    );
  return {
    issuer: m.issuer,
    authorizationEndpoint: m.authorization_endpoint,
    tokenEndpoint: m.token_endpoint,
    jwksUri: m.jwks_uri,
    tokenAuthMethod,
  };
}
