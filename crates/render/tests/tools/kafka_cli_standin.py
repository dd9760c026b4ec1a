#!/usr/bin/env python3
"""Stand-ins for Kafka's kafka-topics.sh and kafka-configs.sh (which need Kafka's jars; no
registry this project reaches has them), on kafka-python's admin client.

Only the flags the rendered topic script uses are accepted, spelled and combined as Kafka's
tools take them (kafka-topics.sh: TopicCommand; kafka-configs.sh: ConfigCommand); anything else
is an error, so the script cannot come to rely on a flag the real tools lack. `--describe`
prints Kafka's format: `Topic: T\tTopicId: ID\tPartitionCount: N\tReplicationFactor: R\tConfigs: k=v,...`
then one line per partition. Each request that changes the cluster is appended as a JSON line
to $BERTH_KAFKA_MUTATIONS (the tests assert a second run adds none).
"""
import json, os, sys
from kafka.admin import (ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions,
                         NewTopic)

TOPICS_FLAGS = {"--bootstrap-server": 1, "--command-config": 1, "--list": 0, "--create": 0,
                "--if-not-exists": 0, "--topic": 1, "--partitions": 1,
                "--replication-factor": 1, "--config": 1, "--describe": 0, "--alter": 0}
CONFIGS_FLAGS = {"--bootstrap-server": 1, "--command-config": 1, "--alter": 0, "--describe": 0,
                 "--entity-type": 1, "--entity-name": 1, "--add-config": 1}


def parse(argv, flags):
    opts, i = {}, 0
    while i < len(argv):
        a = argv[i]
        if a not in flags:
            sys.exit(f"{os.path.basename(sys.argv[0])}: unrecognized option '{a}'")
        if flags[a]:
            if i + 1 >= len(argv):
                sys.exit(f"Option {a} requires an argument")
            opts.setdefault(a, []).append(argv[i + 1])
            i += 2
        else:
            opts[a] = True
            i += 1
    if "--bootstrap-server" not in opts:
        sys.exit("Missing required argument \"[bootstrap-server]\"")
    return opts


def one(opts, k):
    v = opts.get(k)
    if v is None:
        return None
    if len(v) != 1:
        sys.exit(f"Option {k} given more than once")
    return v[0]


def admin(opts):
    if "--command-config" in opts:
        # SASL/TLS client properties: the loopback broker has none to check them against.
        sys.exit("--command-config: the stand-in has no SASL/TLS to test against")
    return KafkaAdminClient(bootstrap_servers=one(opts, "--bootstrap-server").split(","),
                            request_timeout_ms=10000)


def record(**kw):
    path = os.environ.get("BERTH_KAFKA_MUTATIONS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(kw, sort_keys=True) + "\n")


def topic_configs(a, topic):
    res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    entries = res.get("topic", {}).get(topic, {}) or {}
    out = {}
    for k, v in entries.items():
        if isinstance(v, dict):
            v = v.get("value", v.get("config_value"))
        out[k] = v
    return out


def topics(argv):
    o = parse(argv, TOPICS_FLAGS)
    modes = [m for m in ("--list", "--create", "--describe", "--alter") if m in o]
    if len(modes) != 1:
        sys.exit("Command must include exactly one action: --list, --create, --describe, --alter")
    a = admin(o)
    t = one(o, "--topic")
    if "--list" in o:
        for name in sorted(a.list_topics()):
            print(name)
        return
    if t is None:
        sys.exit("Missing required argument \"[topic]\"")
    if "--create" in o:
        if "--if-not-exists" in o and t in a.list_topics():
            return
        configs = dict(kv.split("=", 1) for kv in o.get("--config", []))
        p, r = int(one(o, "--partitions")), int(one(o, "--replication-factor"))
        a.create_topics([NewTopic(t, p, r, topic_configs=configs)])
        record(op="create", topic=t, partitions=p, replication_factor=r, config=configs)
        print(f"Created topic {t}.")
        return
    if "--describe" in o:
        d = a.describe_topics([t])[0]
        if d["error_code"]:
            sys.exit(f"Error while executing topic command : Topic '{t}' does not exist as expected")
        parts = sorted(d["partitions"], key=lambda p: p["partition_index"])
        rf = len(parts[0]["replica_nodes"]) if parts else 0
        cfg = ",".join(f"{k}={v}" for k, v in sorted(topic_configs(a, t).items()))
        print(f"Topic: {t}\tTopicId: {d['topic_id']}\tPartitionCount: {len(parts)}\t"
              f"ReplicationFactor: {rf}\tConfigs: {cfg}")
        for p in parts:
            j = lambda xs: ",".join(map(str, xs))
            print(f"\tTopic: {t}\tPartition: {p['partition_index']}\tLeader: {p['leader_id']}\t"
                  f"Replicas: {j(p['replica_nodes'])}\tIsr: {j(p['isr_nodes'])}")
        return
    if "--alter" in o:
        p = int(one(o, "--partitions"))
        record(op="alter-partitions", topic=t, partitions=p)
        a.create_partitions({t: NewPartitions(p)})


def configs(argv):
    o = parse(argv, CONFIGS_FLAGS)
    if one(o, "--entity-type") != "topics":
        sys.exit("the stand-in handles --entity-type topics only")
    a = admin(o)
    t = one(o, "--entity-name")
    if "--describe" in o:
        cfg = ",".join(f"{k}={v}" for k, v in sorted(topic_configs(a, t).items()))
        print(f"Dynamic configs for topic {t} are:\n  {cfg}")
        return
    if "--alter" in o:
        kvs = dict(kv.split("=", 1) for kv in one(o, "--add-config").split(","))
        record(op="alter-config", topic=t, config=kvs)
        a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t, configs=kvs)])
        print(f"Completed updating config for topic {t}.")


if __name__ == "__main__":
    {"kafka-topics.sh": topics, "kafka-configs.sh": configs}[os.path.basename(sys.argv[0])](sys.argv[1:])
