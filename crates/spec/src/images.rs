//! Images as users write them. `registry` and `version` apply to the app's own images only:
//!
//! - a reference whose first path part is a registry host (has a `.` or `:`, or is
//!   `localhost`), or any path with a `/` (`bitnami/redis:7.2`), is taken as written;
//! - a short name with a tag that is a Docker Hub official image (`redis:7-alpine`,
//!   `postgres:16`) is Docker Hub's, never prefixed;
//! - any other short name (`todo-backend`, `todo-backend:2.0`) is the app's own:
//!   `registry/name:tag-or-version`;
//! - `registry: none` on a service turns the prefix off for it;
//! - an untagged short name that is also an official image name (`redis`) is ambiguous:
//!   it is taken as the app's own, with a warning.

use crate::resolve::ImageRef;

/// Docker Hub's official images (`docker.io/library/*`) that services commonly run.
pub const OFFICIAL_IMAGES: &[&str] = &[
    "adminer",
    "aerospike",
    "almalinux",
    "alpine",
    "amazoncorretto",
    "amazonlinux",
    "arangodb",
    "bash",
    "bonita",
    "buildpack-deps",
    "busybox",
    "caddy",
    "cassandra",
    "centos",
    "chronograf",
    "clickhouse",
    "clojure",
    "composer",
    "consul",
    "couchbase",
    "couchdb",
    "crate",
    "debian",
    "docker",
    "drupal",
    "eclipse-mosquitto",
    "eclipse-temurin",
    "elasticsearch",
    "elixir",
    "emqx",
    "erlang",
    "fedora",
    "flink",
    "fluentd",
    "gcc",
    "ghost",
    "golang",
    "gradle",
    "groovy",
    "haproxy",
    "haskell",
    "hello-world",
    "httpd",
    "influxdb",
    "jenkins",
    "jetty",
    "joomla",
    "julia",
    "kapacitor",
    "kibana",
    "kong",
    "logstash",
    "mariadb",
    "matomo",
    "maven",
    "mediawiki",
    "memcached",
    "mongo",
    "mongo-express",
    "mysql",
    "neo4j",
    "nextcloud",
    "nginx",
    "node",
    "odoo",
    "openjdk",
    "oraclelinux",
    "percona",
    "perl",
    "php",
    "phpmyadmin",
    "postgres",
    "pypy",
    "python",
    "rabbitmq",
    "redis",
    "redmine",
    "registry",
    "rethinkdb",
    "rockylinux",
    "ruby",
    "rust",
    "solr",
    "sonarqube",
    "spark",
    "swift",
    "telegraf",
    "tomcat",
    "traefik",
    "ubuntu",
    "varnish",
    "vault",
    "wordpress",
    "zookeeper",
];

/// What happened to an image reference, for the warning about ambiguous names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageNote {
    None,
    /// An untagged official image name taken as the app's own image.
    AmbiguousOfficial,
}

/// Resolves `image` (see the module docs). `registry` is `None` for no prefix.
pub fn resolve_image(
    image: &str,
    registry: Option<&str>,
    version: Option<&str>,
) -> (ImageRef, ImageNote) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d.to_owned())),
        None => (image, None),
    };
    // A `:` after the last `/` is a tag; before it, a registry port.
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (repo, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(rest[last_slash + i + 1..].to_owned()),
        ),
        None => (rest, None),
    };
    let short = !repo.contains('/');
    let official = short && OFFICIAL_IMAGES.contains(&repo);
    // Docker Hub's own: tagged (or pinned) official images.
    let docker_hub = official && (tag.is_some() || digest.is_some());
    let own = short && !docker_hub;
    let note = if official && !docker_hub && (registry.is_some() || version.is_some()) {
        ImageNote::AmbiguousOfficial
    } else {
        ImageNote::None
    };
    let repository = match registry {
        Some(reg) if own => format!("{}/{repo}", reg.trim_end_matches('/')),
        _ => repo.to_owned(),
    };
    let tag = match (tag, &digest) {
        (Some(t), _) => Some(t),
        (None, None) => version.map(str::to_owned),
        (None, Some(_)) => None,
    };
    (
        ImageRef {
            repository,
            tag,
            digest,
        },
        note,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(image: &str) -> (String, ImageNote) {
        let (i, n) = resolve_image(image, Some("ghcr.io/acme"), Some("1.4.2"));
        (i.to_string(), n)
    }

    #[test]
    fn the_apps_own_images_get_registry_and_version() {
        assert_eq!(r("todo-backend").0, "ghcr.io/acme/todo-backend:1.4.2");
        assert_eq!(r("todo-backend:2.0").0, "ghcr.io/acme/todo-backend:2.0");
        assert_eq!(r("app@sha256:abc").0, "ghcr.io/acme/app@sha256:abc");
    }

    #[test]
    fn docker_hub_and_absolute_images_are_kept() {
        assert_eq!(
            r("redis:7-alpine"),
            ("redis:7-alpine".into(), ImageNote::None)
        );
        assert_eq!(r("postgres:16").0, "postgres:16");
        assert_eq!(r("bitnami/redis:7.2").0, "bitnami/redis:7.2");
        assert_eq!(
            r("docker.io/library/nginx").0,
            "docker.io/library/nginx:1.4.2"
        );
        assert_eq!(r("localhost:5000/app:1").0, "localhost:5000/app:1");
        assert_eq!(
            r("gcr.io/google-samples/microservices-demo/frontend:v0.10.1").0,
            "gcr.io/google-samples/microservices-demo/frontend:v0.10.1"
        );
    }

    #[test]
    fn an_untagged_official_name_is_ambiguous() {
        assert_eq!(
            r("redis"),
            (
                "ghcr.io/acme/redis:1.4.2".into(),
                ImageNote::AmbiguousOfficial
            )
        );
        let (i, n) = resolve_image("redis", None, None);
        assert_eq!((i.to_string(), n), ("redis".into(), ImageNote::None));
    }
}
