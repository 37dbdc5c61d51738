import type { RunCoordinator } from './run/run-coordinator';
import type { RunIndex } from './run-index/run-index';

/** Bindings and variables of the Worker (wrangler.toml, `.dev.vars`, `wrangler secret put`). */
export interface Env {
  DB: D1Database;
  ASSETS: Fetcher;
  RUN_COORDINATOR: DurableObjectNamespace<RunCoordinator>;
  /** One run index per tenant (worker/src/run-index/): the Explorer's list, the dashboard, engine audit entries. */
  RUN_INDEX: DurableObjectNamespace<RunIndex>;
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
  /** Copilot drafting (docs/copilot.md): `builtin` (default, offline), `workers-ai` or `openai`. */
  COPILOT_PROVIDER?: string;
  /** Model id for `workers-ai` or `openai`. */
  COPILOT_MODEL?: string;
  /** Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1`. */
  COPILOT_OPENAI_BASE_URL?: string;
  /** Name of the secret holding that API's key: `OPENAI_API_KEY` (stored per tenant) or `env:OPENAI_API_KEY`. */
  COPILOT_OPENAI_KEY_SECRET?: string;
  /** How long a model may take, in milliseconds (default 20000). */
  COPILOT_TIMEOUT_MS?: string;
  /** Drafts per tenant per minute (default 20). */
  COPILOT_DRAFTS_PER_MINUTE?: string;
  /** Workers AI binding; only when `[ai] binding = "AI"` is configured (not needed offline). */
  AI?: import('./copilot/workers-ai').AiBinding;
  /**
   * Mail (docs/accounts.md): `outbox` (default in development/test, refused in production),
   * `cloudflare` (the send_email binding MAIL) or `http` (a Resend-style JSON API).
   */
  MAIL_TRANSPORT?: string;
  /** Sender, e.g. `Automate <no-reply@example.com>`; its domain must be allowed by the transport. */
  MAIL_FROM?: string;
  /** `http` transport: the API's base URL (messages go to `<base>/emails`). */
  MAIL_HTTP_URL?: string;
  /** `http` transport: the NAME of the Worker secret holding the API key (e.g. `RESEND_API_KEY`). */
  MAIL_HTTP_KEY_SECRET?: string;
  /** Cloudflare Email Service binding, with `[[send_email]] name = "MAIL"` in wrangler.toml. */
  MAIL?: SendEmail;
  /** Public origin of the studio for links in mails, e.g. `https://automate.example.com`. */
  PUBLIC_URL?: string;
  /** Bench only: `1` counts binding calls per run and serves them at /__meter (bench/README.md, "Cost per run"). Never in production. */
  AUTOMATE_METER?: string;
  /** Tests only: base URL of the local stub servers standing in for third-party APIs. */
  STUB_URL?: string;
}
