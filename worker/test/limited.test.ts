import { describe, expect, it } from 'vitest';
import { forEachLimited } from '../src/lib/limited';
import { executionBatchSize } from '../src/run/step-consumer';

describe('forEachLimited (EXECUTION_BATCH_SIZE)', () => {
  it('never runs more than the limit at once, and runs everything', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5 + (n % 3) * 5));
      running--;
      done.push(n);
    });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('reads EXECUTION_BATCH_SIZE, defaulting to 10', () => {
    expect(executionBatchSize({ EXECUTION_BATCH_SIZE: '4' } as never)).toBe(4);
    expect(executionBatchSize({} as never)).toBe(10);
    expect(executionBatchSize({ EXECUTION_BATCH_SIZE: 'lots' } as never)).toBe(10);
  });
});
