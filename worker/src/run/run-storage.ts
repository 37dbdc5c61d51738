/**
 * How a run object lays out its storage. What never changes after the start, the trigger
 * event (up to 1.5 MiB as recorded) and the version's definition, is written once under
 * `input`; `state` holds the rest and is rewritten at every event. So an event writes the
 * run's progress, not its payload again, and `state` stays well below the 2 MB a stored
 * value may hold however large the event. Step outputs have keys of their own (`out:<id>`).
 * Runs started before this layout keep everything under `state` and load as they are.
 */
import type { RunState } from './run-state';

export type RunInput = Pick<RunState, 'trigger' | 'definition'>;
type StoredState = Omit<RunState, keyof RunInput> & Partial<RunInput>;

/** What goes under `state`. */
export function storedState(state: RunState): StoredState {
  const { trigger: _trigger, definition: _definition, ...progress } = state;
  return progress;
}

/** What goes under `input`, once. */
export function inputOf(state: RunState): RunInput {
  return { trigger: state.trigger, definition: state.definition };
}

/** The run as stored, and whether its `input` is stored apart already (false: an older layout, or none). */
export async function loadState(
  storage: DurableObjectStorage,
): Promise<{ state: RunState; inputStored: boolean } | null> {
  const stored = await storage.get<StoredState>('state');
  if (!stored) return null;
  if (stored.definition !== undefined && stored.trigger !== undefined)
    return { state: stored as RunState, inputStored: false };
  const input = await storage.get<RunInput>('input');
  if (!input) throw new Error('run object: state without its input');
  return { state: { ...stored, ...input }, inputStored: true };
}
