import type { Env } from '../env';
import type { PublishCheck } from './workflow-service';

/** Checks every publish must pass beyond the schema. */
export function publishChecks(_env: Env): PublishCheck[] {
  return [];
}
