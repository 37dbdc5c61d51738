/**
 * Why a secret could not be used. Messages name the key, the backend and the step so
 * the Execution Explorer can say what to fix; they never carry a value or key material.
 */
export type SecretErrorCode =
  /** AUTOMATE_MASTER_KEY (or AUTOMATE_ENV_GRANTS) is missing or malformed: an operator fix. */
  | 'NOT_CONFIGURED'
  /** No stored secret with that key in this tenant. */
  | 'NOT_FOUND'
  /** The env key is not granted to this tenant, or is reserved. */
  | 'NOT_GRANTED'
  /** The env key is granted but the Worker variable is not set. */
  | 'ENV_NOT_SET'
  /** Tampered or moved ciphertext, or the master key that encrypted it is wrong or gone. */
  | 'UNDECRYPTABLE';

export class SecretError extends Error {
  readonly code: SecretErrorCode;
  readonly key?: string;
  readonly stepId?: string;
  /** A missing secret stays missing until someone acts: retrying the step would not help. */
  readonly retryable = false;

  constructor(code: SecretErrorCode, message: string, opts: { key?: string; stepId?: string } = {}) {
    super(message);
    this.name = 'SecretError';
    this.code = code;
    this.key = opts.key;
    this.stepId = opts.stepId;
  }
}
