/**
 * cdktf's Testing matchers, wired into vitest. `Testing.setupJest()` needs jest's global
 * `expect`; cdktf also exports the matcher factories (`testingMatchers`), which take the pass
 * evaluation as a parameter, so here they evaluate with vitest's own asymmetric matchers (as
 * cdktf's jest adapter does with jest's): a resource matches when it contains every asserted
 * property, and `expect.stringContaining(...)` etc. work inside the expected properties.
 * Keys are the synthesized (snake_case) names.
 */
import { testingMatchers } from 'cdktf';
import { expect } from 'vitest';

/** A cdktf resource, data source or provider class (anything with its Terraform type). */
export interface TerraformConstructor {
  readonly tfResourceType: string;
}

function vitestPassEvaluation(items: unknown, asserted: Record<string, unknown>): boolean {
  const list = Object.values(items as Record<string, unknown>);
  if (Object.keys(asserted).length === 0) return list.length > 0;
  return expect.arrayContaining([expect.objectContaining(asserted)]).asymmetricMatch(list);
}

expect.extend({
  toHaveResource(received: string, ctor: TerraformConstructor) {
    return testingMatchers.returnMatcherToJest(testingMatchers.getToHaveResourceWithProperties(vitestPassEvaluation)(received, ctor, {}));
  },
  toHaveResourceWithProperties(received: string, ctor: TerraformConstructor, properties: Record<string, unknown>) {
    return testingMatchers.returnMatcherToJest(testingMatchers.getToHaveResourceWithProperties(vitestPassEvaluation)(received, ctor, properties));
  },
  toHaveProviderWithProperties(received: string, ctor: TerraformConstructor, properties: Record<string, unknown>) {
    return testingMatchers.returnMatcherToJest(testingMatchers.getToHaveProviderWithProperties(vitestPassEvaluation)(received, ctor, properties));
  },
});

declare module 'vitest' {
  interface Assertion<T = any> {
    toHaveResource(ctor: TerraformConstructor): T;
    toHaveResourceWithProperties(ctor: TerraformConstructor, properties: Record<string, unknown>): T;
    toHaveProviderWithProperties(ctor: TerraformConstructor, properties: Record<string, unknown>): T;
  }
}
