/**
 * One Durable Object per run (CONTRACT §6). The execution engine (issue 4) fills in
 * the coordination; the class is bound now so the deployment's migrations are stable.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export class RunCoordinator extends DurableObject<Env> {}
