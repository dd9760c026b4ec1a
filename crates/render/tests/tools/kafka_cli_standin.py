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


def java_properties(path):
    """The file as java.util.Properties.load reads it (Kafka's --command-config): `#`/`!`
    comments, `=`/`:`/space separators, backslash escapes (\\t \\n \\r \\f \\uXXXX, else the
    character itself), a trailing odd backslash continuing the line."""
    raw = open(path, encoding="latin-1").read().split("\n")
    props, i = {}, 0
    while i < len(raw):
        line = raw[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        while (len(line) - len(line.rstrip("\\"))) % 2 == 1 and i < len(raw):
            line = line[:-1] + raw[i].lstrip(" \t\f")
            i += 1
        out, j, key = [], 0, None
        while j < len(line):
            c = line[j]
            if c == "\\" and j + 1 < len(line):
                n = line[j + 1]
                if n == "u":
                    out.append(chr(int(line[j + 2:j + 6], 16)))
                    j += 6
                    continue
                out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(n, n))
                j += 2
                continue
            if key is None and c in "=: \t":
                key = "".join(out)
                out = []
                j += 1
                while j < len(line) and line[j] in " \t":
                    j += 1
                if c in " \t" and j < len(line) and line[j] in "=:":
                    j += 1
                    while j < len(line) and line[j] in " \t":
                        j += 1
                continue
            out.append(c)
            j += 1
        if key is None:
            key, out = "".join(out), []
        props[key] = "".join(out)
    return props


def jaas(text):
    """`Module flag key="value" ...;` as Kafka's JaasConfig reads it (java.io.StreamTokenizer:
    in a quoted value a backslash escapes the next character)."""
    toks, j = [], 0
    while j < len(text):
        c = text[j]
        if c.isspace():
            j += 1
        elif c == '"':
            v, j = [], j + 1
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text):
                    j += 1
                v.append(text[j])
                j += 1
            if j >= len(text):
                sys.exit("sasl.jaas.config: unterminated quoted value")
            toks.append(("str", "".join(v)))
            j += 1
        elif c in "=;":
            toks.append((c, c))
            j += 1
        else:
            k = j
            while j < len(text) and not text[j].isspace() and text[j] not in '=;"':
                j += 1
            toks.append(("word", text[k:j]))
    if len(toks) < 3 or toks[-1][0] != ";" or toks[1][1] not in ("required", "requisite", "sufficient", "optional"):
        sys.exit(f"sasl.jaas.config is not `LoginModule flag key=\"value\" ...;`")
    opts, k = {}, 2
    while k < len(toks) - 1:
        if k + 2 >= len(toks) or toks[k + 1][0] != "=" or toks[k + 2][0] != "str":
            sys.exit("sasl.jaas.config: options are key=\"value\"")
        opts[toks[k][1]] = toks[k + 2][1]
        k += 3
    return toks[0][1], opts


MODULES = {"PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
           "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
           "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule"}
CLIENT_KEYS = {"security.protocol", "sasl.mechanism", "sasl.jaas.config", "ssl.truststore.type",
               "ssl.truststore.location"}


def client_settings(path):
    """kafka-python's settings for a --command-config file, checked as Kafka's client checks it.
    The loopback broker speaks plaintext, so with BERTH_KAFKA_STANDIN_PLAINTEXT set the stand-in
    records what it would authenticate with ($BERTH_KAFKA_CLIENT_SEEN) and connects in plaintext."""
    p = java_properties(path)
    unknown = set(p) - CLIENT_KEYS
    if unknown:
        sys.exit(f"--command-config: unknown client properties {sorted(unknown)}")
    proto = p.get("security.protocol", "PLAINTEXT")
    if proto not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        sys.exit(f"security.protocol={proto} is not a Kafka security protocol")
    kw = {"security_protocol": proto}
    if proto.startswith("SASL_"):
        mech = p.get("sasl.mechanism", "GSSAPI")
        if mech not in MODULES:
            sys.exit(f"sasl.mechanism={mech}: not one the stand-in knows")
        module, opts = jaas(p.get("sasl.jaas.config", ""))
        if module != MODULES[mech] or set(opts) != {"username", "password"}:
            sys.exit(f"sasl.jaas.config: {module} with {sorted(opts)} does not fit {mech}")
        kw.update(sasl_mechanism=mech, sasl_plain_username=opts["username"],
                  sasl_plain_password=opts["password"])
    if "ssl.truststore.location" in p:
        if p.get("ssl.truststore.type") != "PEM":
            sys.exit("ssl.truststore.location without ssl.truststore.type=PEM")
        if not os.path.isfile(p["ssl.truststore.location"]):
            sys.exit(f"ssl.truststore.location {p['ssl.truststore.location']}: no such file")
        kw["ssl_cafile"] = p["ssl.truststore.location"]
    if os.environ.get("BERTH_KAFKA_STANDIN_PLAINTEXT"):
        seen = os.environ.get("BERTH_KAFKA_CLIENT_SEEN")
        if seen:
            with open(seen, "w") as f:
                json.dump(kw, f, sort_keys=True)
        return {}
    return kw


def admin(opts):
    extra = {}
    if "--command-config" in opts:
        extra = client_settings(one(opts, "--command-config"))
    return KafkaAdminClient(bootstrap_servers=one(opts, "--bootstrap-server").split(","),
                            request_timeout_ms=10000, **extra)


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
