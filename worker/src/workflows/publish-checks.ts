import type { Env } from '../env';
import { secretReferencesCheck } from '../secrets/publish-check';
import { connectorReferencesCheck } from './connector-check';
import { delayUntilCheck } from './delay-check';
import { reachabilityCheck } from './reachability-check';
import type { PublishCheck } from './workflow-service';

/** Checks every publish must pass beyond the schema. */
export function publishChecks(env: Env): PublishCheck[] {
  return [secretReferencesCheck(env), connectorReferencesCheck(), delayUntilCheck()];
}

/**
 * What `POST /api/workflows/validate` reports: the publish checks plus steps no path reaches.
 * The latter is not a publish check: files with such a step import and publish today (a
 * dead step never runs, so it harms nothing), and refusing them would break files people
 * already publish from CI. The studio's editor blocks its own Publish on every problem this
 * answers, so what is authored there has none (docs/editor.md, "Problems, before publishing").
 */
export function validateChecks(env: Env): PublishCheck[] {
  return [...publishChecks(env), reachabilityCheck()];
}
