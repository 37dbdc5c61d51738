/** JSONLogic conditions, shared by the run object and the Rule Tester. */
import jsonLogic from 'json-logic-js';

export interface RuleResult {
  result: unknown;
  passed: boolean;
}

export class RuleError extends Error {}

/** Evaluates a rule against data. `passed` is JSONLogic truthiness (`[]` is falsy, as in the spec). */
export function evaluateRule(rule: unknown, data: unknown): RuleResult {
  let result: unknown;
  try {
    result = jsonLogic.apply(rule as jsonLogic.RulesLogic, data);
  } catch (e) {
    // json-logic-js throws plain Errors such as "Unrecognized operation foo".
    throw new RuleError(e instanceof Error ? e.message : String(e));
  }
  return { result: result === undefined ? null : result, passed: jsonLogic.truthy(result) };
}
