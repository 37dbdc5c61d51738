import type { Env } from '../env';
import { secretReferencesCheck } from '../secrets/publish-check';
import { connectorReferencesCheck } from './connector-check';
import { delayUntilCheck } from './delay-check';
import type { PublishCheck } from './workflow-service';

/** Checks every publish must pass beyond the schema. */
export function publishChecks(env: Env): PublishCheck[] {
  return [secretReferencesCheck(env), connectorReferencesCheck(), delayUntilCheck()];
}
