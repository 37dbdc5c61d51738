import type { Db } from './db/client';
import type { Env } from './env';
import type { Principal } from './auth/principal';

/** Hono's typing for this app: bindings plus per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Db;
    principal: Principal | null;
    /** How the principal authenticated: CSRF checks apply to cookies only. */
    authVia: 'cookie' | 'token' | null;
  };
};
