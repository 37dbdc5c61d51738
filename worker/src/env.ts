import type { RunCoordinator } from './run/run-coordinator';

/** Bindings and variables of the Worker (wrangler.toml, `.dev.vars`, `wrangler secret put`). */
export interface Env {
  DB: D1Database;
  ASSETS: Fetcher;
  RUN_COORDINATOR: DurableObjectNamespace<RunCoordinator>;
  STEP_QUEUE: Queue;
  /** `development` relaxes what only makes sense behind HTTPS (Secure cookies). */
  ENVIRONMENT?: string;
  EXECUTION_BATCH_SIZE?: string;
  /** Extra origins allowed to make cookie-authenticated writes, comma-separated. */
  ALLOWED_ORIGINS?: string;
  /**
   * Master keys for stored secrets: `<keyId>:<base64 of 32 bytes>[,...]`, the first
   * encrypts, the rest only decrypt (docs/secrets.md). Set with `wrangler secret put`.
   */
  AUTOMATE_MASTER_KEY?: string;
  /** Which tenants may read which env secrets: `*` or `{"<tenant slug>": ["KEY", ...]}` (docs/secrets.md). */
  AUTOMATE_ENV_GRANTS?: string;
  /** `true` lets the http connector reach private and loopback addresses outside local dev. */
  ALLOW_PRIVATE_NETWORK?: string;
  /** Tests only: base URL of the local stub servers standing in for third-party APIs. */
  STUB_URL?: string;
}
