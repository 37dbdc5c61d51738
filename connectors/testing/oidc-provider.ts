/**
 * A real OpenID Connect provider for the SSO tests: panva's `oidc-provider` (the certified
 * implementation), on 127.0.0.1 with a random port, with no login UI. Its interaction page
 * signs in, at once, the account named by `?as=<email>` on the interaction URL, or else by
 * the `login_hint` the relying party sent; consent is granted for every client. Accounts
 * exist for any email; those starting with `unverified` have `email_verified: false`.
 *
 * Clients (secret = `<client id>-secret`), all registered for `redirectUris`:
 * - `automate-rs`: ID tokens signed RS256;
 * - `automate-es`: ID tokens signed ES256;
 * - `automate-forged`: the provider's own RS256 ID token, re-signed by the token endpoint
 *   with ANOTHER RSA key under the provider's key id (what an attacker who can answer in the
 *   provider's place would send): a relying party must refuse its signature.
 *
 * Node code, self-contained like stub-server.ts, so the vitest global setup and e2e tests
 * can both start it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider from 'oidc-provider';

export const FORGED_CLIENT = 'automate-forged';
export const OIDC_CLIENTS = ['automate-rs', 'automate-es', FORGED_CLIENT] as const;
export const clientSecretOf = (clientId: string) => `${clientId}-secret`;

export interface LocalOidcProvider {
  /** The issuer, e.g. http://127.0.0.1:41234 (no trailing slash). */
  issuer: string;
  close(): Promise<void>;
}

async function signingKeys() {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const forger = await generateKeyPair('RS256', { extractable: true });
  return {
    rsa: { ...(await exportJWK(rsa.privateKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
    ec: { ...(await exportJWK(ec.privateKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
    forger: forger.privateKey,
  };
}

export async function startOidcProvider(opts: { redirectUris: string[] }): Promise<LocalOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keys = await signingKeys();

  const provider = new Provider(issuer, {
    clients: OIDC_CLIENTS.map((clientId) => ({
      client_id: clientId,
      client_secret: clientSecretOf(clientId),
      redirect_uris: opts.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: clientId === 'automate-es' ? 'ES256' : 'RS256',
    })),
    jwks: { keys: [keys.rsa, keys.ec] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Real providers put the scope's claims in the ID token of the code flow; so does this one.
    conformIdTokenClaims: false,
    cookies: { keys: ['local-oidc-provider-cookie-key'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    // Explicit lifetimes (seconds): the defaults work but print a notice each time one is used.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: `sub-${id}`, email: id, email_verified: !id.startsWith('unverified'), name: id }),
    }),
    // Consent is the user's to give on a real provider; here every client has it.
    loadExistingGrant: async (ctx) => {
      const { client, session } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const existing = session.grantIdFor(client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      session.grantIdFor(client.clientId, grant.jti);
      return grant;
    },
  });

  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (ctx.path === '/token' && body?.id_token && ctx.oidc?.client?.clientId === FORGED_CLIENT) {
      body.id_token = await new SignJWT(decodeJwt(body.id_token))
        .setProtectedHeader({ alg: 'RS256', kid: keys.rsa.kid, typ: 'JWT' })
        .sign(keys.forger);
    }
  });

  const oidc = provider.callback();
  server.on('request', async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (req.method === 'GET' && url.pathname.startsWith('/interaction/')) {
      try {
        const details = await provider.interactionDetails(req, res);
        const accountId = url.searchParams.get('as') ?? (details.params.login_hint as string | undefined);
        if (!accountId) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('no login_hint and no ?as=');
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
      }
      return;
    }
    oidc(req, res);
  });

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
