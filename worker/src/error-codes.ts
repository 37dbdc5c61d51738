/**
 * Every `error.code` the API can answer: one closed list, lower_snake_case, documented one
 * by one in docs/errors.md and published as the enum of the OpenAPI `Error` schema.
 * Dependency-free so the studio, the CLI and tests can import it as is. A new code needs
 * its HTTP status (worker/src/http/error-handler.ts), a section in docs/errors.md and a
 * case in worker/test/error-codes.test.ts; the type checker and that test enforce all three.
 */
export const ERROR_CODES = [
  // The request itself
  'invalid_request',
  'unsupported_media_type',
  'payload_too_large',
  'rate_limited',
  'route_not_found',
  // Who is asking
  'unauthorized',
  'invalid_credentials',
  'forbidden',
  'origin_not_allowed',
  'email_not_verified',
  'invalid_link',
  'mfa_enrollment_required',
  'invalid_mfa_code',
  'mfa_challenge_invalid',
  'sso_required',
  'sso_state_invalid',
  // Objects that do not exist (or belong to another tenant)
  'workflow_not_found',
  'version_not_found',
  'run_not_found',
  'secret_not_found',
  'token_not_found',
  'webhook_not_found',
  'member_not_found',
  'invitation_not_found',
  'sso_not_configured',
  // Workflows and runs
  'invalid_workflow',
  'hardcoded_credential',
  'invalid_rule',
  'workflow_not_published',
  'trigger_mismatch',
  'run_not_retryable',
  'legacy_run_not_retryable',
  'version_not_runnable',
  'workflow_runs_in_flight',
  // Accounts and secrets
  'email_taken',
  'last_owner',
  'mfa_already_enabled',
  'mfa_not_enabled',
  'mfa_required_by_tenant',
  'secret_in_use',
  'concurrent_modification',
  'sso_domain_taken',
  'sso_discovery_failed',
  // Webhooks and the deployment
  'invalid_signature',
  'signing_secret_unavailable',
  'run_start_unavailable',
  'secrets_not_configured',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
