import { expect } from 'vitest';
import { SecretError } from '../../src/secrets/secret-error';

/** The SecretError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function failure(p: Promise<unknown>): Promise<SecretError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SecretError);
    return e as SecretError;
  }
  throw new Error('expected a SecretError');
}
