/**
 * Two-factor helpers for tests: an authenticator app in code. Codes come from the secret the
 * enrolment answer showed, like a phone would compute them; each secret's codes are handed
 * out in increasing time steps, since the server accepts each step once.
 */
import { hotp, TOTP_PERIOD_SECONDS, timeStep } from '../../src/auth/mfa/totp';
import { base32Decode } from '../../src/auth/mfa/totp';
import { call, client, expectStatus, type Session } from './api';

const lastStep = new Map<string, number>();
const STEP_MS = TOTP_PERIOD_SECONDS * 1000;

/**
 * The next code the server will take for this secret: the step after the last one used,
 * at the earliest the previous step (the server allows ±1). Waits when all three are used.
 */
export async function nextCode(secret: string): Promise<string> {
  for (;;) {
    const now = Date.now();
    const current = timeStep(now);
    // Within 2 s of a step change, the previous step might already be out of the window.
    const earliest = now % STEP_MS > STEP_MS - 2000 ? current : current - 1;
    const step = Math.max((lastStep.get(secret) ?? -1) + 1, earliest);
    if (step <= current + 1) {
      lastStep.set(secret, step);
      return hotp(base32Decode(secret), step);
    }
    await new Promise((r) => setTimeout(r, STEP_MS - (now % STEP_MS) + 50));
  }
}

/** A code that is none of the three the server would take now. */
export async function wrongCode(secret: string): Promise<string> {
  const key = base32Decode(secret);
  const current = timeStep(Date.now());
  const valid = new Set(await Promise.all([-2, -1, 0, 1, 2].map((d) => hotp(key, current + d))));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

export interface Enrolled {
  secret: string;
  otpauthUri: string;
  recoveryCodes: string[];
}

/** Enrols the signed-in user: start, then confirm with a current code. */
export async function enrolMfa(session: Session): Promise<Enrolled> {
  const api = client({ session });
  const started = await expectStatus('enroll', 201, api.POST('/auth/mfa/enroll'));
  const { secret, otpauthUri } = started.data;
  const confirmed = await expectStatus(
    'confirm',
    200,
    api.POST('/auth/mfa/enroll/confirm', { body: { code: await nextCode(secret) } }),
  );
  return { secret, otpauthUri, recoveryCodes: confirmed.data.recoveryCodes };
}

/** Password step of sign-in for a user with MFA: the challenge. */
export async function passwordStep(email: string, password: string) {
  const res = await call('POST', '/api/auth/login', { body: { email, password } });
  if (res.status !== 202) throw new Error(`login: expected 202, got ${res.status} ${res.text}`);
  return res.json.challenge as string;
}

export function sessionCookie(headers: Headers): string {
  const m = /automate_session=([^;]+)/.exec(headers.get('set-cookie') ?? '');
  if (!m) throw new Error('no session cookie');
  return `automate_session=${m[1]}`;
}

/** Full sign-in with password and a proof; the new session (cookie) on success. */
export async function signInWithMfa(
  who: Session,
  proof: { code: string } | { recoveryCode: string },
): Promise<Session> {
  const challenge = await passwordStep(who.email, who.password);
  const res = await call('POST', '/api/auth/mfa/verify', { body: { challenge, ...proof } });
  if (res.status !== 200) throw new Error(`verify: ${res.status} ${res.text}`);
  return { ...who, cookie: sessionCookie(res.headers) };
}
