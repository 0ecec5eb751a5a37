import type * as pulumi from '@pulumi/pulumi';
import type * as k8s from '@pulumi/kubernetes';

/** `opts` with `more` added to its `dependsOn` (which may be one resource, a list, or absent). */
export function withDependsOn(opts: pulumi.CustomResourceOptions, ...more: (pulumi.Input<pulumi.Resource> | undefined)[]): pulumi.CustomResourceOptions {
  const d = opts.dependsOn;
  const base: pulumi.Input<pulumi.Resource>[] = d === undefined ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
  return { ...opts, dependsOn: [...base, ...more.filter((r): r is pulumi.Input<pulumi.Resource> => r !== undefined)] };
}

/** A StatefulSet's per-pod data volume `data` of `storage`, of the class given or the default one. */
export function dataClaimTemplate(storage: pulumi.Input<string>, storageClassName: string | undefined): k8s.types.input.core.v1.PersistentVolumeClaim {
  return {
    metadata: { name: 'data' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage } },
      ...(storageClassName !== undefined ? { storageClassName } : {}),
    },
  };
}
