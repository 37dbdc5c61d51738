/** Shared by the e2e tests: talk to the running stack (through the typed client) as a user or a script. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createApiClient, type ApiClient } from '../api/client.ts';

export const root = path.resolve(import.meta.dirname, '..');

export interface Account {
  baseUrl: string;
  tenant: string;
  email: string;
  password: string;
  /** `automate_session=...`, to send as a Cookie header. */
  cookie: string;
  /** The typed API client (api/client.ts), signed in as this account's owner. */
  api: ApiClient;
}

export const uniqueSuffix = () => randomBytes(4).toString('hex');

export async function signup(baseUrl: string, tenant = `E2E ${uniqueSuffix()}`): Promise<Account> {
  const email = `owner-${uniqueSuffix()}@example.com`;
  const password = 'correct horse battery staple';
  const { response } = await expectStatus(
    createApiClient({ baseUrl }).POST('/auth/signup', { body: { tenant, email, password } }),
    201,
  );
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  // Confirm the address from the dev outbox, as the owner would from their inbox: API tokens need it.
  const token = linkToken(await mailTo(baseUrl, email, 'verify_email'));
  await expectStatus(createApiClient({ baseUrl }).POST('/auth/verify-email', { body: { token } }), 200);
  return { baseUrl, tenant, email, password, cookie, api: createApiClient({ baseUrl, cookie }) };
}

/** The newest mail of this template to this address in the dev outbox; mail goes out just after the answer. */
export async function mailTo(baseUrl: string, to: string, template: string, after = 0) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { messages } = await ok(createApiClient({ baseUrl }).GET('/dev/outbox', { params: { query: { to } } }));
    const found = messages.find((m) => m.template === template && m.createdAt >= after);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${template} mail to ${to} in the outbox`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The token of the one link in a mail (`.../studio/<page>#token=...`). */
export function linkToken(message: { text: string }): string {
  const m = /#token=([A-Za-z0-9_-]+)/.exec(message.text);
  if (!m) throw new Error(`no link in: ${message.text}`);
  return m[1];
}

/**
 * Awaits a typed call that must answer `expected` (or any 2xx) and returns its data and
 * response; anything else throws with the status and the server's error.
 */
export async function expectStatus<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
  expected?: number,
): Promise<{ data: T; response: Response }> {
  const { data, error, response } = await call;
  if (expected !== undefined ? response.status !== expected : !response.ok)
    throw new Error(`${response.url}: ${response.status} ${JSON.stringify(error ?? data)}`);
  return { data: data as T, response };
}

/** The data of a typed call that must answer `expected` (or any 2xx). */
export const ok = async <T>(call: Promise<{ data?: T; error?: unknown; response: Response }>, expected?: number) =>
  (await expectStatus(call, expected)).data;

/** A client that authenticates with an API token instead of the session. */
export const withToken = (baseUrl: string, token: string) => createApiClient({ baseUrl, token });

export async function createToken(account: Account): Promise<string> {
  return (await ok(account.api.POST('/tokens', { body: { name: 'e2e cli' } }), 201)).token;
}

/** Stored secret keys a workflow file refers to (`{"$secret": "KEY"}` without `backend: "env"`). */
export function storedSecretKeys(workflow: unknown): string[] {
  const keys = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$secret === 'string' && o.backend !== 'env') keys.add(o.$secret);
      Object.values(o).forEach(walk);
    }
  };
  walk(workflow);
  return [...keys].sort();
}

/**
 * Publishing refuses a workflow whose stored secrets do not exist, so create them first.
 * Tolerates a server without the secrets API yet (404).
 */
export async function provideSecrets(account: Account, keys: string[]) {
  for (const key of keys) {
    const value = key.endsWith('WEBHOOK_SECRET')
      ? `whsec_${randomBytes(32).toString('base64')}`
      : `e2e-${randomBytes(16).toString('hex')}`;
    const { response, error } = await account.api.PUT('/secrets/{key}', { params: { path: { key } }, body: { value } });
    if (response.status === 404) return;
    if (!response.ok) throw new Error(`PUT /api/secrets/${key}: ${response.status} ${JSON.stringify(error)}`);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for asserting on what a user would read. */
  output: string;
}

/** Runs the real CLI (`node cli/automate.ts ...`) as a child process. */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.AUTOMATE_URL;
  delete childEnv.AUTOMATE_TOKEN;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'cli/automate.ts'), ...args],
      { cwd: root, env: childEnv, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, output: `${stdout}${stderr}` });
      },
    );
  });
}
