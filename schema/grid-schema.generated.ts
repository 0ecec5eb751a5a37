// DO NOT EDIT: generated from schema/grid.schema.json by schema/generate-schema-module.mjs.
// Edit the JSON file, then run `node schema/generate-schema-module.mjs`.

/** The grid spec JSON Schema (2020-12), as a literal type so the TypeScript types derive from it. */
export const gridSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://sutra-grid.local/schema/grid.schema.json",
  "title": "Sutra Grid spec",
  "description": "The declared state of a grid: its agents and the storage clusters placed on them. The master converges live state to it.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "name",
    "agents"
  ],
  "properties": {
    "name": {
      "description": "Name of the grid: a DNS label (lowercase letters, digits and '-', at most 63 characters).",
      "$ref": "#/$defs/dnsLabel"
    },
    "master": {
      "description": "Where the master listens.",
      "type": "object",
      "additionalProperties": false,
      "default": {},
      "properties": {
        "address": {
          "description": "host:port of the master's gRPC service.",
          "$ref": "#/$defs/address",
          "default": "127.0.0.1:7000"
        }
      }
    },
    "monitoring": {
      "description": "How agent health is judged and how failed nodes are restarted.",
      "type": "object",
      "additionalProperties": false,
      "default": {},
      "properties": {
        "heartbeatInterval": {
          "description": "How often each agent reports to the master, e.g. 5s.",
          "$ref": "#/$defs/duration",
          "default": "5s"
        },
        "degradedAfter": {
          "description": "Silence after which an agent is marked degraded. Must exceed heartbeatInterval and be below offlineAfter.",
          "$ref": "#/$defs/duration",
          "default": "15s"
        },
        "offlineAfter": {
          "description": "Silence after which an agent is marked offline.",
          "$ref": "#/$defs/duration",
          "default": "30s"
        },
        "replaceAfter": {
          "description": "Grace an agent may stay offline before its nodes are replaced on other agents.",
          "$ref": "#/$defs/duration",
          "default": "60s"
        },
        "restart": {
          "description": "Restart policy for a node whose process exits.",
          "type": "object",
          "additionalProperties": false,
          "default": {},
          "properties": {
            "maxRestarts": {
              "description": "Restarts allowed within `window` before the node is marked failed and replaced (at most 1,000).",
              "type": "integer",
              "minimum": 0,
              "maximum": 1000,
              "default": 3
            },
            "window": {
              "description": "Sliding window in which restarts are counted.",
              "$ref": "#/$defs/duration",
              "default": "60s"
            },
            "backoff": {
              "description": "Delay before the first restart; it doubles on each further restart.",
              "$ref": "#/$defs/duration",
              "default": "1s"
            }
          }
        }
      }
    },
    "storage": {
      "description": "Defaults for the storage-server nodes the grid runs.",
      "type": "object",
      "additionalProperties": false,
      "default": {},
      "properties": {
        "binary": {
          "description": "Path of the storage-server binary (at most 4,096 characters). Omitted: the bundled storage-server.",
          "type": "string",
          "minLength": 1,
          "maxLength": 4096
        },
        "dataPath": {
          "description": "Directory under which each node gets its own data directory (at most 4,096 characters).",
          "type": "string",
          "minLength": 1,
          "maxLength": 4096,
          "default": "./.grid/data"
        },
        "memory": {
          "description": "Memory per node unless a cluster sets its own, e.g. 256Mi, 2Gi, or an integer of MiB.",
          "$ref": "#/$defs/size",
          "default": "256Mi"
        },
        "portRange": {
          "description": "Inclusive range of ports nodes are given on each agent host.",
          "type": "object",
          "additionalProperties": false,
          "default": {},
          "properties": {
            "start": {
              "description": "First port of the range.",
              "$ref": "#/$defs/port",
              "default": 50051
            },
            "end": {
              "description": "Last port of the range (inclusive).",
              "$ref": "#/$defs/port",
              "default": 50250
            }
          }
        }
      }
    },
    "agents": {
      "description": "The agents that run storage nodes: at least one, at most 5,000 (Kubernetes' own limit of nodes per cluster).",
      "type": "array",
      "minItems": 1,
      "maxItems": 5000,
      "items": {
        "$ref": "#/$defs/agent"
      }
    },
    "clusters": {
      "description": "Storage clusters to place on the agents: at most 10,000, holding at most 150,000 nodes in total (Kubernetes' limits of services and pods per cluster).",
      "type": "array",
      "maxItems": 10000,
      "default": [],
      "items": {
        "$ref": "#/$defs/cluster"
      }
    }
  },
  "$defs": {
    "dnsLabel": {
      "type": "string",
      "minLength": 1,
      "maxLength": 63,
      "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    },
    "duration": {
      "description": "A duration: a number and a unit ms, s, m or h; parts may be chained (1m30s); at most 64 characters.",
      "type": "string",
      "maxLength": 64,
      "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
    },
    "size": {
      "description": "A memory size with a unit (Ki, Mi, Gi, Ti binary; k, M, G, T decimal), or an integer of MiB (at most 2^53 - 1); a size string has at most 64 characters.",
      "type": [
        "string",
        "integer"
      ],
      "pattern": "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|K|M|G|T)$",
      "maxLength": 64,
      "minimum": 1,
      "maximum": 9007199254740991
    },
    "address": {
      "description": "host:port; an IPv6 host is written in brackets, e.g. [::1]:7000. At most 261 characters (a 253-character DNS name, ':' and a port).",
      "type": "string",
      "maxLength": 261,
      "pattern": "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}$"
    },
    "port": {
      "type": "integer",
      "minimum": 1,
      "maximum": 65535
    },
    "labels": {
      "type": "object",
      "maxProperties": 64,
      "propertyNames": {
        "maxLength": 253,
        "pattern": "^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
      },
      "additionalProperties": {
        "type": "string",
        "maxLength": 63,
        "pattern": "^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"
      },
      "description": "At most 64 labels; keys of at most 253 characters, values of at most 63 (as in Kubernetes)."
    },
    "agent": {
      "description": "An agent: a daemon that spawns and watches storage nodes on one host or platform.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "id",
        "capacity"
      ],
      "properties": {
        "id": {
          "description": "Unique id of the agent: a DNS label, e.g. agent-1.",
          "$ref": "#/$defs/dnsLabel"
        },
        "platform": {
          "description": "Where the agent runs nodes.",
          "type": "string",
          "enum": [
            "process",
            "docker",
            "kubernetes",
            "systemd"
          ],
          "default": "process"
        },
        "address": {
          "description": "host:port of the agent's gRPC service. Omitted: `sutra-grid up` picks one for local process agents.",
          "$ref": "#/$defs/address"
        },
        "capacity": {
          "description": "How much the agent may host.",
          "type": "object",
          "additionalProperties": false,
          "required": [
            "nodes"
          ],
          "properties": {
            "nodes": {
              "description": "Most nodes the agent may run at once (0 keeps the agent empty; at most 150,000, Kubernetes' limit of pods per cluster, since one kubernetes agent stands for a whole cluster).",
              "type": "integer",
              "minimum": 0,
              "maximum": 150000
            },
            "memory": {
              "description": "Total memory for the agent's nodes, e.g. 2Gi. Omitted: not limited.",
              "$ref": "#/$defs/size"
            }
          }
        },
        "labels": {
          "description": "Labels that cluster placement selectors match, e.g. { zone: a }.",
          "$ref": "#/$defs/labels",
          "default": {}
        },
        "cordoned": {
          "description": "Cordon the agent: no new node is placed on it (creates and replacements go elsewhere), its running nodes stay. `sutra-grid cordon` does the same without a spec change; the agent is cordoned when either says so.",
          "type": "boolean",
          "default": false
        }
      }
    },
    "cluster": {
      "description": "A storage cluster: a number of nodes of one topology placed on the agents.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "name",
        "nodes"
      ],
      "properties": {
        "name": {
          "description": "Unique name of the cluster: a DNS label, e.g. kg.",
          "$ref": "#/$defs/dnsLabel"
        },
        "nodes": {
          "description": "Number of nodes (for leader-replicas: one leader, the rest replicas); at most 5,000.",
          "type": "integer",
          "minimum": 1,
          "maximum": 5000
        },
        "topology": {
          "description": "standalone: independent nodes; leader-replicas: one leader and its replicas.",
          "type": "string",
          "enum": [
            "standalone",
            "leader-replicas"
          ],
          "default": "standalone"
        },
        "memory": {
          "description": "Memory per node, e.g. 512Mi. Omitted: storage.memory.",
          "$ref": "#/$defs/size"
        },
        "replication": {
          "description": "How a leader-replicas cluster replicates its writes. Omitted: sync with a quorum of 1 when the cluster has replicas (an acknowledged write survives the loss of any one node), async for a cluster of one node.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "durability": {
              "description": "async: a write is acknowledged once durable on the leader (losing the leader's host loses what was not yet replicated); sync: once durable on the leader and on syncQuorum replicas (no acknowledged write is lost while fewer than syncQuorum + 1 nodes are lost; writes stop while fewer than syncQuorum replicas follow). Omitted: sync when the cluster has replicas, async for a cluster of one node.",
              "type": "string",
              "enum": [
                "async",
                "sync"
              ]
            },
            "syncQuorum": {
              "description": "Replicas that must hold a write before a sync write is acknowledged; at most the cluster's nodes - 1.",
              "type": "integer",
              "minimum": 1,
              "maximum": 4999,
              "default": 1
            },
            "syncTimeout": {
              "description": "How long a sync write waits for its quorum before it fails (not acknowledged), e.g. 5s.",
              "$ref": "#/$defs/duration",
              "default": "5s"
            }
          }
        },
        "update": {
          "description": "How a change that restarts nodes (a memory change) rolls through the cluster: a few nodes at a time, each healthy for a while before the next, replicas first and the leader last after it hands over to an up-to-date replica.",
          "type": "object",
          "additionalProperties": false,
          "default": {},
          "properties": {
            "maxUnavailable": {
              "description": "Nodes of the cluster that may be down for the change at once (restarting, or restarted and not yet healthy for minHealthyTime).",
              "type": "integer",
              "minimum": 1,
              "maximum": 5000,
              "default": 1
            },
            "maxSurge": {
              "description": "Copies of the cluster's nodes that may run besides the declared ones during a move (a drain, a changed pin or label): the new copy starts on its new agent and, for a replica, catches up with the leader before the old copy stops, so the node never goes down and a one-replica move loses no data. 0: the old copy stops first (its agent's slot is free before the new one starts). A restart in place (a memory change) cannot surge: both copies would share the node's data directory.",
              "type": "integer",
              "minimum": 0,
              "maximum": 5000,
              "default": 1
            },
            "minHealthyTime": {
              "description": "How long a restarted node must run healthy before the next step starts, e.g. 10s.",
              "$ref": "#/$defs/duration",
              "default": "10s"
            },
            "healthyDeadline": {
              "description": "A restarted node that is not healthy this long after its step started fails the rollout: no further node of the cluster is restarted, e.g. 5m.",
              "$ref": "#/$defs/duration",
              "default": "5m"
            },
            "autoRevert": {
              "description": "When a rollout fails, apply the last spec whose rollout succeeded again (the nodes already changed go back).",
              "type": "boolean",
              "default": false
            }
          }
        },
        "placement": {
          "description": "Where the nodes may go and how they are spread.",
          "type": "object",
          "additionalProperties": false,
          "default": {},
          "properties": {
            "strategy": {
              "description": "spread: fewest nodes per agent first; binpack: fill the fullest agent that fits first.",
              "type": "string",
              "enum": [
                "spread",
                "binpack"
              ],
              "default": "spread"
            },
            "agents": {
              "description": "Pin the cluster to these agent ids (at most 5,000, as many as a grid may declare). Empty: any agent.",
              "type": "array",
              "maxItems": 5000,
              "uniqueItems": true,
              "items": {
                "type": "string",
                "$ref": "#/$defs/dnsLabel"
              },
              "default": []
            },
            "selector": {
              "description": "Only agents whose labels include all of these. Empty: any agent.",
              "$ref": "#/$defs/labels",
              "default": {}
            }
          }
        }
      }
    }
  }
} as const;
