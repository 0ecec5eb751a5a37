import type * as pulumi from '@pulumi/pulumi';

/** `opts` with `more` added to its `dependsOn` (which may be one resource, a list, or absent). */
export function withDependsOn(opts: pulumi.CustomResourceOptions, ...more: (pulumi.Input<pulumi.Resource> | undefined)[]): pulumi.CustomResourceOptions {
  const d = opts.dependsOn;
  const base: pulumi.Input<pulumi.Resource>[] = d === undefined ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
  return { ...opts, dependsOn: [...base, ...more.filter((r): r is pulumi.Input<pulumi.Resource> => r !== undefined)] };
}
