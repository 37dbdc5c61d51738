/** A step's exits: the one derivation the workflow checks and the studio's canvas share. */
import { describe, expect, it } from 'vitest';
import { stepExits } from '../src/workflows/step-graph';

describe('stepExits', () => {
  it('gives a condition its then and else', () => {
    expect(stepExits({ type: 'condition', then: 'a', else: null })).toEqual([
      { field: ['then'], target: 'a' },
      { field: ['else'], target: null },
    ]);
  });

  it("gives a branch each case's next, by index, then default", () => {
    expect(
      stepExits({
        type: 'branch',
        cases: [
          { equals: 'US', next: 'us' },
          { equals: 'DE', next: 'de' },
        ],
        default: 'rest',
      }),
    ).toEqual([
      { field: ['cases', 0, 'next'], target: 'us', caseIndex: 0 },
      { field: ['cases', 1, 'next'], target: 'de', caseIndex: 1 },
      { field: ['default'], target: 'rest' },
    ]);
  });

  it('gives every other step its next, and tolerates a branch still being edited', () => {
    for (const type of ['action', 'delay', 'transform'])
      expect(stepExits({ type, next: 'b' })).toEqual([{ field: ['next'], target: 'b' }]);
    expect(stepExits({ type: 'branch' })).toEqual([{ field: ['default'], target: undefined }]);
  });
});
