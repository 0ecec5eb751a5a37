import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { LAYOUT, NAMES, type CompiledKubernetesProps } from './props.js';
import { applyArgs } from './container-args.js';
import {
  containerSecurityContext,
  podSecurityContext,
  secretMount,
  secretVolume,
  tmpMount,
  tmpVolume,
  tokenMount,
  tokenVolume,
} from './pod-security.js';

/**
 * A Job running `sutra-grid apply <spec> --auto-approve` against the master. Its name carries the
 * first 12 hex digits of the spec's hash: Jobs are immutable, so a changed spec yields a new
 * name, Pulumi replaces the Job, and the new spec is applied; an unchanged spec leaves it alone.
 * Pulumi waits for the Job to complete, so `pulumi up` fails when the apply fails.
 */
export function createApplyJob(
  prefix: string,
  props: CompiledKubernetesProps,
  namespace: pulumi.Input<string>,
  masterAddress: string,
  specHash: string,
  opts: pulumi.CustomResourceOptions,
): k8s.batch.v1.Job {
  const name = `${NAMES.applyJob}-${specHash.slice(0, 12)}`;
  const labels = {
    'app.kubernetes.io/name': 'sutra-grid',
    'app.kubernetes.io/component': 'apply',
  };
  return new k8s.batch.v1.Job(
    `${prefix}-apply-${specHash.slice(0, 12)}`,
    {
      metadata: { namespace, name, labels, annotations: { 'sutra-grid.io/spec-hash': specHash } },
      spec: {
        // Retries cover a master that is ready but still relearning its agents.
        backoffLimit: 6,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'OnFailure',
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(props.runAsUser),
            containers: [
              {
                name: 'apply',
                image: props.image,
                imagePullPolicy: props.imagePullPolicy,
                args: applyArgs(masterAddress, props.tls),
                securityContext: containerSecurityContext(),
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                volumeMounts: [
                  { name: 'spec', mountPath: LAYOUT.specDir, readOnly: true },
                  tokenMount(),
                  tmpMount(),
                  ...(props.tls ? [secretMount('ca-cert', LAYOUT.caCertDir)] : []),
                ],
              },
            ],
            volumes: [
              { name: 'spec', configMap: { name: NAMES.spec } },
              tokenVolume(),
              tmpVolume(),
              ...(props.tls ? [secretVolume('ca-cert', NAMES.caCert)] : []),
            ],
          },
        },
      },
    },
    opts,
  );
}
