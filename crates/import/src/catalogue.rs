//! Well-known images: which typed dependency each is, and what berth needs to run it as a
//! plain service when this berth has no in-cluster dependency of that type.

/// What a well-known image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// berth dependency type (`zookeeper` is not one: it is dropped for KRaft).
    pub kind: &'static str,
    pub port: u16,
    /// Where it keeps its data.
    pub data: &'static [&'static str],
    /// Other paths it writes (sockets, pid files).
    pub writable: &'static [&'static str],
    /// The non-root UID the official image runs as (or can run as).
    pub uid: u32,
    /// Environment variable naming the first database (postgres, mysql).
    pub database_env: Option<&'static str>,
}

/// A health check the official image answers, for servers compose gave none.
pub fn default_probe(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "postgres" => &["pg_isready", "-h", "127.0.0.1"],
        "mysql" | "mariadb" => &[
            "sh",
            "-c",
            "mysqladmin ping -h 127.0.0.1 --silent || mariadb-admin ping -h 127.0.0.1 --silent",
        ],
        "redis" => &["redis-cli", "ping"],
        "valkey" => &["valkey-cli", "ping"],
        "mongodb" => &[
            "sh",
            "-c",
            "mongosh --quiet --eval 'db.runCommand({ ping: 1 }).ok' || mongo --quiet --eval 'db.runCommand({ ping: 1 }).ok'",
        ],
        "rabbitmq" => &["rabbitmq-diagnostics", "-q", "ping"],
        "elasticsearch" => &[
            "sh",
            "-c",
            "curl -fsS 'http://127.0.0.1:9200/_cluster/health?local=true' >/dev/null",
        ],
        _ => return None,
    })
}

const fn k(
    kind: &'static str,
    port: u16,
    data: &'static [&'static str],
    writable: &'static [&'static str],
    uid: u32,
    database_env: Option<&'static str>,
) -> Known {
    Known {
        kind,
        port,
        data,
        writable,
        uid,
        database_env,
    }
}

/// Repository (without registry, tag or digest; `library/` dropped) → what it is.
pub fn known(repository: &str) -> Option<Known> {
    let r = repository.trim_start_matches("library/");
    let last = r.rsplit('/').next().unwrap_or(r);
    Some(match (r, last) {
        (_, "postgres" | "postgresql" | "postgis") => k(
            "postgres",
            5432,
            &["/var/lib/postgresql/data"],
            &["/var/run/postgresql"],
            999,
            Some("POSTGRES_DB"),
        ),
        (_, "mysql" | "mysql-server") => k(
            "mysql",
            3306,
            &["/var/lib/mysql"],
            &["/var/run/mysqld"],
            999,
            Some("MYSQL_DATABASE"),
        ),
        (_, "mariadb") => k(
            "mariadb",
            3306,
            &["/var/lib/mysql"],
            &["/run/mysqld"],
            999,
            Some("MARIADB_DATABASE"),
        ),
        (_, "redis" | "redis-stack-server") => k("redis", 6379, &["/data"], &[], 999, None),
        (_, "valkey") => k("valkey", 6379, &["/data"], &[], 999, None),
        (_, "mongo" | "mongodb") => k(
            "mongodb",
            27017,
            &["/data/db", "/data/configdb"],
            &[],
            999,
            None,
        ),
        (_, "rabbitmq") => k("rabbitmq", 5672, &["/var/lib/rabbitmq"], &[], 999, None),
        (
            "apache/kafka"
            | "bitnami/kafka"
            | "confluentinc/cp-kafka"
            | "wurstmeister/kafka"
            | "apache/kafka-native",
            _,
        ) => k("kafka", 9092, &["/var/lib/kafka/data"], &[], 1000, None),
        (_, "zookeeper" | "cp-zookeeper") => k("zookeeper", 2181, &["/data"], &[], 1000, None),
        (_, "elasticsearch") => k(
            "elasticsearch",
            9200,
            &["/usr/share/elasticsearch/data"],
            &[],
            1000,
            None,
        ),
        (_, "memcached") => k("memcached", 11211, &[], &[], 11211, None),
        (_, "nats") => k("nats", 4222, &[], &[], 1000, None),
        _ => return None,
    })
}

/// Ports that carry something other than HTTP (so they are `tcp`, not `http`).
pub fn non_http_port(port: u32) -> bool {
    matches!(
        port,
        21 | 22
            | 23
            | 25
            | 53
            | 110
            | 143
            | 389
            | 465
            | 587
            | 636
            | 993
            | 995
            | 1433
            | 1521
            | 1883
            | 2181
            | 2375
            | 2376
            | 3306
            | 4222
            | 5432
            | 5672
            | 6379
            | 6380
            | 7000
            | 7001
            | 8883
            | 9042
            | 9092
            | 9093
            | 9300
            | 11211
            | 25565
            | 27017
            | 27018
            | 28015
            | 29092
            | 51820
    )
}

/// Image reference parts: (registry or "", repository, tag, digest).
pub fn split_image(image: &str) -> (String, String, Option<String>, Option<String>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d.to_owned())),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (repo, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(rest[last_slash + i + 1..].to_owned()),
        ),
        None => (rest, None),
    };
    let (registry, repository) = match repo.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => (String::new(), repo.to_owned()),
    };
    let registry = if registry == "docker.io" || registry == "index.docker.io" {
        String::new()
    } else {
        registry
    };
    (registry, repository, tag, digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_images() {
        let kind = |i: &str| known(&split_image(i).1).map(|k| k.kind);
        assert_eq!(kind("postgres:16-alpine"), Some("postgres"));
        assert_eq!(kind("docker.io/library/mariadb:11"), Some("mariadb"));
        assert_eq!(kind("bitnami/kafka:3.7"), Some("kafka"));
        assert_eq!(kind("confluentinc/cp-zookeeper:7.6.0"), Some("zookeeper"));
        assert_eq!(
            kind("docker.elastic.co/elasticsearch/elasticsearch:8.1.0"),
            Some("elasticsearch")
        );
        assert_eq!(kind("valkey/valkey:8"), Some("valkey"));
        assert_eq!(kind("nginx:1.27"), None);
        assert_eq!(kind("myorg/redis-exporter:1"), None);
        assert_eq!(split_image("localhost:5000/app:1").2.as_deref(), Some("1"));
    }
}
