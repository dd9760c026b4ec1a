//! A resolved compose project → a berth.yaml for people, and the report.
//!
//! Rules, each with a unit test in tests/mapping.rs: image and tag; ports (protocol from the
//! port, published HTTP ports exposed with a placeholder host); environment (credentials →
//! secret names, never values); healthcheck → probes; deploy.replicas/resources; command and
//! entrypoint; volumes (named → storage, files → config files, the rest reported); compose
//! secrets/configs; depends_on and host names in values → uses; well-known images → typed
//! dependencies; everything else in the report with file, line, service and what to do.

use crate::catalogue::{self, Known};
use crate::compose::tree::{entries, items, text, text_at};
use crate::compose::{Files, Project};
use crate::features::Features;
use crate::report::{Item, Kind, Mapped, Report, SecretName};
use crate::yamlout::{Entry, Y, s, strs, write_map};
use berth_yaml::{Node, Pos, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A file the spec refers to, to be written next to berth.yaml.
#[derive(Debug, Clone)]
pub struct OutFile {
    /// Relative to berth.yaml.
    pub path: String,
    pub source: FileSource,
}

#[derive(Debug, Clone)]
pub enum FileSource {
    Copy(PathBuf),
    Content(String),
}

#[derive(Debug, Clone)]
pub struct Imported {
    /// The berth.yaml text.
    pub spec: String,
    pub report: Report,
    pub files: Vec<OutFile>,
}

/// The tag written for third-party images compose ran untagged or as `latest` (which berth
/// refuses): the user puts the real version; until then the pull fails loudly.
pub const PIN_TAG: &str = "pin-a-version";
/// Where the app's own images (compose `build:`) are said to live until the user says.
pub const REGISTRY_PLACEHOLDER: &str = "registry.example.com";

/// A DNS-1035 label of at most `max` characters from any compose name.
pub fn dns_name(name: &str, max: usize) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let mut out = out.trim_matches('-').to_owned();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out = format!("s-{out}");
    }
    out.truncate(max);
    out.trim_end_matches('-').to_owned()
}

/// Does a variable hold a credential? By name (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*_KEY`,
/// …) or by value (a URL with a password).
pub fn is_credential(name: &str, value: Option<&str>) -> bool {
    let n = name.to_ascii_uppercase();
    if n.ends_with("_FILE") || n.ends_with("_PATH") || n.ends_with("_DIR") {
        return false;
    }
    let by_name = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "CREDENTIAL",
        "PRIVATE_KEY",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "AUTH_KEY",
        "SALT",
        "PASSPHRASE",
    ]
    .iter()
    .any(|p| n.contains(p))
        || n.ends_with("_KEY")
        || n == "KEY"
        || n.ends_with("_PASS")
        || n == "PASS"
        || n.ends_with("_PWD");
    by_name || value.is_some_and(url_has_password)
}

/// `scheme://user:password@host…`
pub fn url_has_password(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
    {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()),
        None => false,
    }
}

fn c_ident(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn secret_key(name: &str) -> String {
    let mut k: String = name
        .to_ascii_uppercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if k.starts_with(|c: char| c.is_ascii_digit()) {
        k.insert(0, '_');
    }
    k
}

/// `0.5` CPUs → `500m`.
fn cpu_quantity(v: &str) -> Option<String> {
    let f: f64 = v.trim().parse().ok()?;
    if f <= 0.0 {
        return None;
    }
    let m = (f * 1000.0).round() as u64;
    Some(if m.is_multiple_of(1000) {
        (m / 1000).to_string()
    } else {
        format!("{m}m")
    })
}

/// Docker's memory units (`512m`, `1g`, `1.5G`, bytes) → a Kubernetes quantity.
fn memory_quantity(v: &str) -> Option<String> {
    let t = v.trim().to_ascii_lowercase();
    let t = t.trim_end_matches('b');
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        't' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let bytes = (num.trim().parse::<f64>().ok()? * mult as f64) as u64;
    if bytes == 0 {
        return None;
    }
    let mi = bytes.div_ceil(1 << 20);
    Some(if mi.is_multiple_of(1024) {
        format!("{}Gi", mi / 1024)
    } else {
        format!("{mi}Mi")
    })
}

/// Compose durations (`1m30s`, `10s`, `500ms`) → seconds (rounded up).
fn seconds(v: &str) -> Option<u64> {
    let mut total_ms: u64 = 0;
    let mut num = String::new();
    let b: Vec<char> = v.trim().chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            i += 1;
            continue;
        }
        let mut unit = String::new();
        while i < b.len() && b[i].is_ascii_alphabetic() {
            unit.push(b[i]);
            i += 1;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let ms = match unit.as_str() {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        total_ms += (n * ms) as u64;
    }
    if !num.is_empty() {
        total_ms += (num.parse::<f64>().ok()? * 1000.0) as u64;
    }
    Some(total_ms.div_ceil(1000))
}

/// The HTTP endpoint a `curl`/`wget` health check calls on localhost: (port, path).
pub fn http_check(test: &[String]) -> Option<(u16, String)> {
    let words: Vec<String> = match test.first().map(String::as_str) {
        Some("CMD") => test[1..].to_vec(),
        Some("CMD-SHELL") => crate::compose::canon::shell_split(test.get(1)?).ok()?,
        _ => return None,
    };
    // Only a single curl/wget command: `a && b` or pipes check something else too.
    if words
        .iter()
        .any(|w| matches!(w.as_str(), "&&" | "||" | "|" | ";"))
    {
        return None;
    }
    let tool = words.first()?.rsplit('/').next()?;
    if tool != "curl" && tool != "wget" {
        return None;
    }
    let url = words.iter().find(|w| w.starts_with("http://"))?;
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (authority, 80),
    };
    if !matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0" | "[::1]") {
        return None;
    }
    let path = path.split('#').next().unwrap_or("/").to_owned();
    Some((port, if path.is_empty() { "/".into() } else { path }))
}

struct Ctx<'a> {
    project: &'a Project,
    features: &'a Features,
    fs: &'a dyn Files,
    report: Report,
    files: Vec<OutFile>,
    /// compose name → berth name
    names: BTreeMap<String, String>,
    app: String,
    /// Values of every credential in the project: a plain variable holding one of them is a
    /// secret too (`AUTH_SALT=changeme` next to `AUTH_KEY=changeme`).
    secret_values: BTreeMap<String, String>,
}

impl Ctx<'_> {
    fn item(
        &mut self,
        kind: Kind,
        pos: Pos,
        service: Option<&str>,
        setting: &str,
        what: impl Into<String>,
        todo: impl Into<String>,
    ) {
        let (file, line, col) = self.project.locate(pos);
        self.report.items.push(Item {
            kind,
            file: file.map(|f| display_path(f, &self.project.dir)),
            line,
            col,
            service: service.map(str::to_owned),
            setting: setting.to_owned(),
            what: what.into(),
            todo: todo.into(),
        });
    }
}

fn display_path(f: &Path, dir: &Path) -> String {
    f.strip_prefix(dir)
        .unwrap_or(f)
        .to_string_lossy()
        .into_owned()
}

/// What a compose service becomes.
enum Role {
    Service,
    /// A typed in-cluster dependency.
    Dependency(Known),
    /// A well-known image berth has no in-cluster type for (yet): a single-replica service.
    Fallback(Known),
    Dropped,
}

#[derive(Default)]
struct Port {
    number: u16,
    protocol: &'static str,
    published: bool,
    pos: Pos,
}

/// Imports a loaded project: whatever cannot be carried over is in the report. Refused only
/// when nothing would be left to deploy.
pub fn import(
    project: &Project,
    features: &Features,
    fs: &dyn Files,
) -> Result<Imported, crate::compose::Diag> {
    if project.services().next().is_none() {
        let disabled: Vec<String> = project
            .disabled
            .iter()
            .map(|(n, p)| format!("{n} (profiles: {})", p.join(", ")))
            .collect();
        return Err(crate::compose::Diag {
            file: project.compose_files.first().cloned(),
            line: 0,
            col: 0,
            message: if disabled.is_empty() {
                "the project has no services to import".into()
            } else {
                format!("no service is enabled: {}", disabled.join("; "))
            },
            help: project
                .disabled
                .first()
                .and_then(|(_, p)| p.first())
                .map(|p| format!("enable a profile: berth import --profile {p}")),
        });
    }
    let mut cx = Ctx {
        project,
        features,
        fs,
        report: Report {
            files: project
                .compose_files
                .iter()
                .map(|f| display_path(f, &project.dir))
                .collect(),
            warnings: project.warnings.iter().map(|w| w.to_string()).collect(),
            ..Default::default()
        },
        files: Vec::new(),
        names: BTreeMap::new(),
        app: dns_name(&project.name, 30),
        secret_values: BTreeMap::new(),
    };
    for (_, svc) in project.services() {
        for (k, v) in svc.get("environment").map(entries).unwrap_or(&[]) {
            if let Some(v) = text(v)
                && !v.is_empty()
                && is_credential(&k.name, Some(&v))
            {
                cx.secret_values.entry(v).or_insert_with(|| k.name.clone());
            }
        }
    }
    // Roles first: whether anything remains a service decides what the rest must be.
    let mut roles: Vec<(String, Role)> = Vec::new();
    for (name, svc) in project.services() {
        let image = text_at(svc, "image").unwrap_or_default();
        let known = (!image.is_empty())
            .then(|| catalogue::known(&catalogue::split_image(&image).1))
            .flatten();
        let role = match known {
            Some(k) if k.kind == "zookeeper" => Role::Dropped,
            Some(k) if features.dependency(k.kind) => Role::Dependency(k),
            Some(k) => Role::Fallback(k),
            None => Role::Service,
        };
        roles.push((name.to_owned(), role));
    }
    if !roles
        .iter()
        .any(|(_, r)| matches!(r, Role::Service | Role::Fallback(_)))
    {
        // berth needs at least one service: run the dependencies as services.
        for (_, r) in roles.iter_mut() {
            if let Role::Dependency(k) = r {
                *r = Role::Fallback(*k);
            }
        }
    }
    let mut taken = BTreeSet::new();
    for (name, _) in &roles {
        let mut n = dns_name(name, 50);
        let mut i = 2;
        while taken.contains(&n) {
            n = format!("{}-{i}", dns_name(name, 46));
            i += 1;
        }
        taken.insert(n.clone());
        cx.names.insert(name.clone(), n);
    }
    let has_port: BTreeSet<String> = project
        .services()
        .filter(|(name, svc)| {
            let role = &roles.iter().find(|(n, _)| n == name).unwrap().1;
            matches!(role, Role::Dependency(_) | Role::Fallback(_))
                || !container_ports(svc).is_empty()
        })
        .map(|(n, _)| n.to_owned())
        .collect();
    let mut services: Vec<Entry> = Vec::new();
    let mut dependencies: Vec<Entry> = Vec::new();
    let mut app_images = false;
    let dropped: BTreeSet<String> = roles
        .iter()
        .filter(|(_, r)| matches!(r, Role::Dropped))
        .map(|(n, _)| n.clone())
        .collect();
    let uses_of = uses_graph(project, &roles, &has_port, &dropped);
    for (name, role) in &roles {
        let svc = project
            .model
            .get("services")
            .and_then(|s| s.get(name))
            .unwrap();
        let bname = cx.names[name].clone();
        if bname != *name {
            cx.item(Kind::Changed, svc.pos, Some(name), "name", format!("renamed to `{bname}`: berth names are DNS labels (lowercase letters, digits, `-`)"), format!("other services reach it as `{bname}`; update host names that say `{name}`"));
        }
        match role {
            Role::Dropped => {
                cx.report.services.push(Mapped {
                    compose: name.clone(),
                    as_: "dropped",
                    name: bname.clone(),
                });
                cx.item(Kind::Dropped, svc.pos, Some(name), "image", "ZooKeeper is not carried over: berth's Kafka runs in KRaft mode, without ZooKeeper", "remove ZooKeeper settings (KAFKA_ZOOKEEPER_CONNECT, …) from the services that had them");
            }
            Role::Dependency(k) => {
                cx.report.services.push(Mapped {
                    compose: name.clone(),
                    as_: "dependency",
                    name: bname.clone(),
                });
                let e = dependency(&mut cx, name, &bname, svc, k);
                dependencies.push(e);
            }
            Role::Service | Role::Fallback(_) => {
                cx.report.services.push(Mapped {
                    compose: name.clone(),
                    as_: "service",
                    name: bname.clone(),
                });
                let fallback = match role {
                    Role::Fallback(k) => Some(*k),
                    _ => None,
                };
                let (e, own_image) = service(
                    &mut cx, name, &bname, svc, fallback, &has_port, &dropped, &uses_of,
                );
                app_images |= own_image;
                services.push(e);
            }
        }
    }
    for (name, profiles) in &project.disabled {
        cx.report.services.push(Mapped {
            compose: name.clone(),
            as_: "dropped",
            name: dns_name(name, 50),
        });
        cx.item(
            Kind::Dropped,
            Pos::default(),
            Some(name),
            "profiles",
            format!(
                "not imported: its profiles ({}) are not active",
                profiles.join(", ")
            ),
            format!(
                "import again with `--profile {}` to include it",
                profiles.first().cloned().unwrap_or_default()
            ),
        );
    }
    secrets_howto(&mut cx);
    // The document.
    let mut top = vec![Entry::new("app", s(cx.app.clone())).above(format!(
        "berth.yaml imported from {} by `berth import`.\nReview every `# REVIEW` comment and the import report; `berth build` renders and checks every environment.",
        cx.report.files.join(", ")
    ))];
    let _ = app_images;
    top.push(Entry::new("services", Y::Map(services)));
    if !dependencies.is_empty() {
        top.push(Entry::new("dependencies", Y::Map(dependencies)));
    }
    let mut envs = vec![Entry::new(
        "dev",
        Y::Map(vec![
            Entry::new("replicas", Y::Int(1))
                .note("one pod per service, in-cluster single instances"),
        ]),
    )];
    for env in ["staging", "prod"] {
        let mut e = Entry::new(env, Y::Map(Vec::new()));
        if env == "prod" {
            e = e.above("production defaults: 2+ replicas, PodDisruptionBudgets, default-deny NetworkPolicies");
        }
        envs.push(e);
    }
    top.push(Entry::new("environments", Y::Map(envs)).above(
        "one block per tier; add `secrets: { mode: sealed, … }` to seal values (see the report)",
    ));
    let mut spec = String::new();
    write_map(&mut spec, &top, 0);
    Ok(Imported {
        spec,
        report: cx.report,
        files: cx.files,
    })
}

/// Who calls whom (compose names): `depends_on` (and links) first, then other services named
/// as hosts in a caller's values and arguments, each only when it closes no cycle (berth
/// refuses cycles among services; databases call nobody).
fn uses_graph(
    project: &Project,
    roles: &[(String, Role)],
    has_port: &BTreeSet<String>,
    dropped: &BTreeSet<String>,
) -> BTreeMap<String, Vec<String>> {
    let mut g: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let callers: Vec<(&str, &Node, bool)> = roles
        .iter()
        .filter(|(_, r)| matches!(r, Role::Service | Role::Fallback(_)))
        .filter_map(|(n, r)| {
            project
                .model
                .get("services")?
                .get(n)
                .map(|s| (n.as_str(), s, matches!(r, Role::Fallback(_))))
        })
        .collect();
    fn reaches(g: &BTreeMap<String, Vec<String>>, from: &str, to: &str) -> bool {
        let mut stack = vec![from.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(g.get(&n).cloned().unwrap_or_default());
            }
        }
        false
    }
    let add = |g: &mut BTreeMap<String, Vec<String>>, from: &str, to: &str| {
        if from == to
            || !has_port.contains(to)
            || dropped.contains(to)
            || g.get(from).is_some_and(|l| l.iter().any(|x| x == to))
        {
            return;
        }
        if reaches(g, to, from) {
            return;
        }
        g.entry(from.to_owned()).or_default().push(to.to_owned());
    };
    for (name, svc, _) in &callers {
        for (k, _) in svc.get("depends_on").map(entries).unwrap_or(&[]) {
            add(&mut g, name, &k.name);
        }
    }
    for (name, svc, is_server) in &callers {
        if *is_server {
            continue;
        }
        let mut values: Vec<(String, String)> = entries(
            svc.get("environment")
                .unwrap_or(&Node::new(Value::Null, Pos::default())),
        )
        .iter()
        .filter_map(|(k, v)| text(v).map(|t| (k.name.to_ascii_uppercase(), t)))
        .collect();
        for f in ["command", "entrypoint"] {
            values.extend(
                svc.get(f)
                    .map(items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(text)
                    .map(|t| (String::new(), t)),
            );
        }
        for (other, _) in roles.iter().filter(|(o, _)| o != name) {
            let named = values.iter().any(|(var, v)| names_host(var, v, other));
            if named {
                add(&mut g, name, other);
            }
        }
    }
    g
}

/// Does a value point at host `host`? A URL or `host:port` naming it, or a variable whose name
/// says it holds a host (…HOST, …ADDR, …SERVER, …) set to it.
fn names_host(var: &str, value: &str, host: &str) -> bool {
    let hosty = [
        "HOST", "ADDR", "URL", "URI", "SERVER", "ENDPOINT", "BROKER", "DSN", "CONNECT", "NODES",
        "UPSTREAM", "BACKEND",
    ]
    .iter()
    .any(|h| var.contains(h));
    let mut rest = value;
    while let Some(i) = rest.find(host) {
        let before = rest[..i].chars().last();
        let after = rest[i + host.len()..].chars().next();
        let bounded_before =
            before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'));
        let bounded_after =
            after.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        if bounded_before && bounded_after {
            let url_like = matches!(before, Some('/') | Some('@'))
                || after == Some(':')
                    && rest[i + host.len() + 1..].starts_with(|c: char| c.is_ascii_digit());
            if url_like || hosty {
                return true;
            }
        }
        rest = &rest[i + host.len()..];
    }
    false
}

/// The container ports of a service: `ports` targets and `expose`, in order, unique.
fn container_ports(svc: &Node) -> Vec<Port> {
    let mut out: Vec<Port> = Vec::new();
    for p in items(
        svc.get("ports")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    ) {
        let Some(n) = text_at(p, "target")
            .and_then(|t| t.parse::<u16>().ok())
            .filter(|n| *n > 0)
        else {
            continue;
        };
        let proto = text_at(p, "protocol").unwrap_or_else(|| "tcp".into());
        let app = text_at(p, "app_protocol").unwrap_or_default();
        let published = p.get("published").is_some();
        if let Some(e) = out.iter_mut().find(|x| x.number == n) {
            e.published |= published;
            continue;
        }
        out.push(Port {
            number: n,
            protocol: port_protocol(n, &proto, &app),
            published,
            pos: p.pos,
        });
    }
    for e in items(
        svc.get("expose")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    ) {
        let t = text(e).unwrap_or_default();
        let (num, proto) = t.split_once('/').unwrap_or((&t, "tcp"));
        let range: Vec<u16> = match num.split_once('-') {
            Some((a, b)) => match (a.parse::<u16>(), b.parse::<u16>()) {
                (Ok(a), Ok(b)) if a <= b && b - a < 100 => (a..=b).collect(),
                _ => Vec::new(),
            },
            None => num.parse().into_iter().collect(),
        };
        for n in range {
            if !out.iter().any(|x| x.number == n) {
                out.push(Port {
                    number: n,
                    protocol: port_protocol(n, proto, ""),
                    published: false,
                    pos: e.pos,
                });
            }
        }
    }
    out
}

fn port_protocol(n: u16, proto: &str, app: &str) -> &'static str {
    match (proto, app) {
        ("udp", _) => "udp",
        (_, "grpc") => "grpc",
        (_, "http" | "https") => "http",
        _ if catalogue::non_http_port(n as u32) => "tcp",
        _ => "http",
    }
}

/// Environment of a service split into plain values and secret names; reports credentials.
fn environment(
    cx: &mut Ctx<'_>,
    name: &str,
    svc: &Node,
    skip: &dyn Fn(&str) -> bool,
) -> (Vec<(String, String)>, Vec<String>) {
    let mut env = Vec::new();
    let mut secrets = Vec::new();
    for (k, v) in entries(
        svc.get("environment")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    ) {
        if skip(&k.name) {
            continue;
        }
        let value = text(v);
        let setting = format!("environment.{}", k.name);
        if !c_ident(&k.name) {
            cx.item(
                Kind::Dropped,
                k.pos,
                Some(name),
                &setting,
                "not a valid environment variable name on Kubernetes (letters, digits, `_`)",
                "rename it in the app, or set it in a config file",
            );
            continue;
        }
        if is_credential(&k.name, value.as_deref())
            || value
                .as_ref()
                .is_some_and(|v| cx.secret_values.contains_key(v))
        {
            secrets.push(k.name.clone());
            let had = match &value {
                Some(v) if !v.is_empty() => "its value in compose is not copied",
                _ => "it has no value in compose",
            };
            cx.item(
                Kind::Secret,
                k.pos,
                Some(name),
                &setting,
                format!(
                    "a credential: `secrets: [{}]` (read from the Secret `{}-secrets`); {had}",
                    k.name, cx.names[name]
                ),
                format!(
                    "set it per environment: berth secret set ENV {} {} < file-with-value",
                    cx.names[name], k.name
                ),
            );
            cx.report.secrets.push(SecretName {
                service: cx.names[name].clone(),
                name: k.name.clone(),
            });
            continue;
        }
        match value {
            Some(v) => env.push((k.name.clone(), v)),
            None => cx.item(
                Kind::Dropped,
                k.pos,
                Some(name),
                &setting,
                "compose passes it only when set in the shell; it is not set here",
                format!(
                    "add `{}` to `env` with its value if the app needs it",
                    k.name
                ),
            ),
        }
    }
    (env, secrets)
}

fn probe_y(
    cx: &Ctx<'_>,
    test: &[String],
    http_port: Option<u16>,
    ports: &[Port],
    timing: &[(String, String)],
) -> Option<(Y, &'static str)> {
    let mut form = None;
    if let Some((port, path)) = http_check(test) {
        if Some(port) == http_port && (timing.is_empty() || !cx.features.probe_forms) {
            form = Some((s(path), "http"));
        } else if cx.features.probe_forms && ports.iter().any(|p| p.number == port) {
            form = Some((
                Y::Map(vec![
                    Entry::new("http", s(path)),
                    Entry::new("port", Y::Int(port as i64)),
                ]),
                "http",
            ));
        } else if Some(port) == http_port {
            form = Some((s(path), "http"));
        }
    }
    let exec: Vec<String> = match test.first().map(String::as_str) {
        Some("CMD") => test[1..].to_vec(),
        Some("CMD-SHELL") => vec![
            "sh".into(),
            "-c".into(),
            test.get(1).cloned().unwrap_or_default(),
        ],
        _ => return None,
    };
    if exec.is_empty() || exec.iter().all(|w| w.is_empty()) {
        return None;
    }
    let (y, kind) = form.unwrap_or((strs(exec), "exec"));
    if cx.features.probe_forms && !timing.is_empty() {
        let mut m = match y {
            Y::Map(m) => m,
            Y::Str(p) => vec![Entry::new("http", s(p))],
            Y::List(l) => vec![Entry::new("exec", Y::List(l))],
            other => vec![Entry::new("exec", other)],
        };
        for (k, v) in timing {
            m.push(Entry::new(k.clone(), s(v.clone())));
        }
        return Some((Y::Map(m), kind));
    }
    Some((y, kind))
}

/// A service (or a well-known image run as one). Returns its entry, the image staging/prod
/// must pin (compose ran it untagged), and whether it is the app's own image.
#[allow(clippy::too_many_arguments)]
fn service(
    cx: &mut Ctx<'_>,
    name: &str,
    bname: &str,
    svc: &Node,
    fallback: Option<Known>,
    has_port: &BTreeSet<String>,
    dropped: &BTreeSet<String>,
    uses_of: &BTreeMap<String, Vec<String>>,
) -> (Entry, bool) {
    let mut body: Vec<Entry> = Vec::new();
    let mut above: Vec<String> = Vec::new();
    let mut own_image = false;
    let n = Some(name);
    // Image.
    let image = text_at(svc, "image");
    let build = svc.get("build");
    let image_value = match (&image, build) {
        (Some(img), b) => {
            let (_, _, tag, digest) = catalogue::split_image(img);
            if let Some(b) = b {
                cx.item(
                    Kind::Review,
                    b.pos,
                    n,
                    "build",
                    format!("berth deploys the image `{img}`; it does not build it"),
                    "build and push the image in CI before deploying",
                );
            }
            let mut e = Entry::new("image", s(img.clone()));
            if tag.is_none() && digest.is_none() {
                e = Entry::new("image", s(format!("{img}:{PIN_TAG}")))
                    .note("REVIEW: untagged (latest) in compose; put the version you run");
                cx.item(Kind::Review, svc.get("image").unwrap().pos, n, "image", format!("`{img}` has no tag (compose pulls `latest`, which berth refuses): berth writes the placeholder tag `{PIN_TAG}`"), "replace the placeholder with the version you run; until then the pods cannot pull the image");
            } else if tag.as_deref() == Some("latest") {
                e = Entry::new(
                    "image",
                    s(img.replacen(":latest", &format!(":{PIN_TAG}"), 1)),
                )
                .note("REVIEW: `latest` in compose; put the version you run");
                cx.item(Kind::Review, svc.get("image").unwrap().pos, n, "image", format!("`{img}` uses `latest`, which berth refuses: berth writes the placeholder tag `{PIN_TAG}`"), "replace the placeholder with the version you run; until then the pods cannot pull the image");
            }
            e
        }
        (None, Some(b)) => {
            own_image = true;
            let img = format!("{REGISTRY_PLACEHOLDER}/{}/{bname}:0.1.0", cx.app);
            cx.item(Kind::Changed, b.pos, n, "build", format!("compose builds this image; berth deploys `{img}`"), format!("build it in CI and push it there (change `{REGISTRY_PLACEHOLDER}/{}` to your registry and the tag to your version)", cx.app));
            Entry::new("image", s(img))
                .note("REVIEW: the image CI builds from the compose `build:`")
        }
        (None, None) => Entry::new("image", s("busybox:1.36")),
    };
    body.push(image_value);
    if let Some(k) = &fallback {
        above.push(format!("REVIEW: a {} server; this berth has no in-cluster `{}` dependency yet, so it runs as a single-replica service", k.kind, k.kind));
        cx.item(Kind::Changed, svc.pos, n, "image", format!("a well-known {} image: kept as a single-replica service (this berth has no in-cluster `{}` dependency type)", k.kind, k.kind), "when your berth has it, import again to get a typed dependency with persistent storage");
    }
    let skip_env = |_: &str| false;
    let (env, mut secrets) = environment(cx, name, svc, &skip_env);
    // Ports.
    let mut ports = container_ports(svc);
    if ports.is_empty()
        && let Some(k) = &fallback
    {
        ports.push(Port {
            number: k.port,
            protocol: port_protocol(k.port, "tcp", ""),
            published: false,
            pos: svc.pos,
        });
    }
    if let Some(k) = &fallback
        && let Some(i) = ports.iter().position(|p| p.number == k.port)
    {
        // The server's own port first.
        let p = ports.remove(i);
        ports.insert(0, p);
    }
    let mut http_port: Option<u16> = None;
    if cx.features.ports_map && ports.len() > 1 {
        let mut m = Vec::new();
        let mut used = BTreeSet::new();
        for p in &ports {
            let mut pname = match p.protocol {
                "http" if !used.contains("http") => "http".to_owned(),
                "grpc" if !used.contains("grpc") => "grpc".to_owned(),
                proto => format!("{proto}-{}", p.number),
            };
            if used.contains(&pname) {
                pname = format!("p{}", p.number);
            }
            used.insert(pname.clone());
            if http_port.is_none() && p.protocol == "http" {
                http_port = Some(p.number);
            }
            let v = if p.protocol == "http" {
                Y::Int(p.number as i64)
            } else {
                Y::Map(vec![
                    Entry::new("port", Y::Int(p.number as i64)),
                    Entry::new("protocol", s(p.protocol)),
                ])
            };
            m.push(Entry::new(pname, v));
        }
        body.push(Entry::new("ports", Y::Map(m)));
    } else if let Some(first) = if fallback.is_some() {
        ports.first()
    } else {
        ports
            .iter()
            .find(|p| p.protocol == "http")
            .or(ports.first())
    } {
        let number = first.number;
        if cx.features.ports_map && first.protocol != "http" {
            body.push(Entry::new(
                "ports",
                Y::Map(vec![Entry::new(
                    format!("{}-{number}", first.protocol),
                    Y::Map(vec![
                        Entry::new("port", Y::Int(number as i64)),
                        Entry::new("protocol", s(first.protocol)),
                    ]),
                )]),
            ));
        } else {
            let mut e = Entry::new("port", Y::Int(number as i64));
            if first.protocol != "http" {
                e = e.note(format!(
                    "REVIEW: {} traffic; berth names the port `http`",
                    first.protocol
                ));
                cx.item(Kind::Changed, first.pos, n, "ports", format!("port {number} carries {}; this berth's `port` is an HTTP port (named `http`)", first.protocol), "nothing for plain TCP; for UDP see the next berth release (`ports:` with protocols)");
            } else {
                http_port = Some(number);
            }
            body.push(e);
        }
        for p in &ports {
            if p.number != number {
                cx.item(
                    Kind::Dropped,
                    p.pos,
                    n,
                    "ports",
                    format!(
                        "port {} ({}): this berth gives a service one port",
                        p.number, p.protocol
                    ),
                    "split the service, or move to a berth with `ports:`",
                );
            }
        }
    }
    // Command and entrypoint: Kubernetes `command` is the entrypoint, `args` the command.
    if let Some(ep) = svc.get("entrypoint") {
        let mut words: Vec<String> = items(ep).iter().filter_map(text).collect();
        scrub(
            cx,
            name,
            bname,
            "entrypoint",
            ep.pos,
            &mut words,
            "$(",
            ")",
            &mut secrets,
        );
        if !words.is_empty() {
            body.push(Entry::new("command", strs(words)));
        }
    }
    if let Some(c) = svc.get("command") {
        let mut words: Vec<String> = items(c).iter().filter_map(text).collect();
        scrub(
            cx,
            name,
            bname,
            "command",
            c.pos,
            &mut words,
            "$(",
            ")",
            &mut secrets,
        );
        if !words.is_empty() {
            body.push(Entry::new("args", strs(words)));
        }
    }
    // Health.
    if let Some(h) = svc.get("healthcheck") {
        let mut test: Vec<String> = h
            .get("test")
            .map(items)
            .unwrap_or(&[])
            .iter()
            .filter_map(text)
            .collect();
        if test.first().map(String::as_str) == Some("CMD")
            && test[1..]
                .iter()
                .any(|w| cx.secret_values.keys().any(|v| w.contains(v.as_str())))
        {
            // A credential in an exec check: through a shell, so it can read the variable.
            let mut words = test[1..].to_vec();
            let before = words.clone();
            scrub(
                cx,
                name,
                bname,
                "healthcheck",
                h.pos,
                &mut words,
                "${",
                "}",
                &mut secrets,
            );
            let joined = words
                .iter()
                .zip(&before)
                .map(|(w, b)| {
                    if w != b {
                        format!(
                            "\"{}\"",
                            w.replace('\\', "\\\\")
                                .replace('"', "\\\"")
                                .replace('`', "\\`")
                        )
                    } else {
                        crate::compose::canon::shell_quote(w)
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            test = vec!["CMD-SHELL".into(), joined];
        }
        scrub(
            cx,
            name,
            bname,
            "healthcheck",
            h.pos,
            &mut test,
            "${",
            "}",
            &mut secrets,
        );
        let disabled = matches!(h.get("disable").map(|d| &d.value), Some(Value::Bool(true)))
            || test.first().map(String::as_str) == Some("NONE");
        let mut timing = Vec::new();
        for (ck, bk) in [
            ("interval", "period"),
            ("timeout", "timeout"),
            ("start_period", "delay"),
        ] {
            if let Some(v) = text_at(h, ck).and_then(|v| seconds(&v)) {
                timing.push((bk.to_owned(), format!("{v}s")));
            }
        }
        if let Some(r) = text_at(h, "retries") {
            timing.push(("failures".into(), r));
        }
        if disabled {
            cx.item(
                Kind::Dropped,
                h.pos,
                n,
                "healthcheck",
                "the image's health check is disabled in compose; no probes",
                "add `health.ready` (an HTTP path or a command) so traffic waits for the app",
            );
        } else if test.is_empty() {
            // inherits the image's HEALTHCHECK: nothing berth can see
            cx.item(
                Kind::Review,
                h.pos,
                n,
                "healthcheck",
                "uses the image's own HEALTHCHECK, which Kubernetes ignores",
                "add `health.ready`",
            );
        } else if let Some((y, kind)) = probe_y(cx, &test, http_port, &ports, &timing) {
            let mut he = vec![Entry::new("ready", y.clone())];
            he.push(Entry::new("live", y));
            body.push(Entry::new("health", Y::Map(he)));
            if !timing.is_empty() && !cx.features.probe_forms {
                cx.item(Kind::Changed, h.pos, n, "healthcheck", format!("{kind} probe for readiness and liveness, with berth's timing (readiness every 5 s, liveness every 10 s) instead of compose's"), "nothing, unless the app needs longer to answer");
            } else {
                cx.item(Kind::Changed, h.pos, n, "healthcheck", format!("{kind} probe for readiness and liveness (Kubernetes restarts the container when liveness fails; docker only marks it unhealthy)"), "check that failing the check should restart the app");
            }
        }
    }
    // kompose's own health labels (`kompose.service.healthcheck.readiness.*`), for projects
    // written for kompose.
    if !body.iter().any(|e| e.key == "health")
        && let Some(labels) = svc.get("labels")
    {
        let label = |k: &str| {
            labels
                .get(&format!("kompose.service.healthcheck.{k}"))
                .and_then(text)
        };
        let probe = |kind: &str| -> Option<Y> {
            if let Some(t) = label(&format!("{kind}.test")) {
                return Some(strs(["sh".to_owned(), "-c".to_owned(), t]));
            }
            let path = label(&format!("{kind}.http_get_path"))?;
            let port = label(&format!("{kind}.http_get_port")).and_then(|p| p.parse::<u16>().ok());
            (port.is_none() || port == http_port).then(|| s(path))
        };
        let (ready, live) = (probe("readiness"), probe("liveness"));
        if ready.is_some() || live.is_some() {
            let mut he = Vec::new();
            if let Some(r) = ready.clone().or(live.clone()) {
                he.push(Entry::new("ready", r));
            }
            if let Some(l) = live.or(ready) {
                he.push(Entry::new("live", l));
            }
            body.push(Entry::new("health", Y::Map(he)));
            cx.item(
                Kind::Changed,
                labels.pos,
                n,
                "labels",
                "kompose health-check labels → readiness and liveness probes",
                "nothing",
            );
        }
    }
    if !body.iter().any(|e| e.key == "health")
        && let Some(k) = &fallback
        && let Some(cmd) = catalogue::default_probe(k.kind)
    {
        body.push(Entry::new(
            "health",
            Y::Map(vec![
                Entry::new("ready", strs(cmd.iter().copied())),
                Entry::new("live", strs(cmd.iter().copied())),
            ]),
        ));
        cx.item(
            Kind::Changed,
            svc.pos,
            n,
            "healthcheck",
            format!(
                "no usable health check in compose: berth uses the {} server's own check `{}`",
                k.kind,
                cmd.join(" ")
            ),
            "nothing",
        );
    }
    if svc.get("healthcheck").is_none() && fallback.is_none() && http_port.is_some() {
        cx.item(
            Kind::Review,
            svc.pos,
            n,
            "healthcheck",
            "no health check: no probes, so traffic reaches pods before they are ready",
            "add `health: { ready: /PATH }`",
        );
    }
    // Expose: a published HTTP port.
    let published_http = ports
        .iter()
        .any(|p| p.published && Some(p.number) == http_port);
    if published_http && fallback.is_none() {
        let host = format!("{bname}.{}.example.com", cx.app);
        body.push(Entry::new(
            "expose",
            Y::Map(vec![
                Entry::new("host", s(host.clone())).note("REVIEW: the public host name"),
                Entry::new("path", s("/")),
                Entry::new("tls", Y::Bool(true)),
            ]),
        ));
        let pos = ports
            .iter()
            .find(|p| p.published)
            .map(|p| p.pos)
            .unwrap_or(svc.pos);
        cx.item(Kind::Review, pos, n, "ports", format!("published HTTP port {}: exposed through an Ingress with TLS at the placeholder host `{host}`", http_port.unwrap()), "set `expose.host` to the real host name (DNS must point at the ingress controller)");
    }
    for p in ports
        .iter()
        .filter(|p| p.published && (Some(p.number) != http_port || fallback.is_some()))
    {
        let lb = cx.features.expose_type && fallback.is_none();
        cx.item(Kind::Dropped, p.pos, n, "ports", format!("published port {} ({}) is reachable only inside the cluster{}", p.number, p.protocol, if lb { "" } else { "; compose published it on the host" }), if fallback.is_some() { "reach it from services through `uses`; use `kubectl port-forward` for local access".to_owned() } else { "expose it with a LoadBalancer (`expose: { type: load-balancer }`) if clients outside the cluster need it".to_owned() });
    }
    // uses: computed for the whole project (cycles broken) before the services are written.
    let uses: Vec<String> = uses_of
        .get(name)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| cx.names[u].clone())
        .collect();
    if let Some(d) = svc.get("depends_on") {
        for (k, v) in entries(d) {
            let setting = format!("depends_on.{}", k.name);
            if dropped.contains(&k.name) {
                cx.item(
                    Kind::Dropped,
                    k.pos,
                    n,
                    &setting,
                    format!("`{}` is not imported, so it is not in `uses`", k.name),
                    "remove settings that point at it",
                );
                continue;
            }
            if !has_port.contains(&k.name) {
                cx.item(Kind::Changed, k.pos, n, &setting, format!("`{}` has no port (a worker): nothing to call, so it is not in `uses`; Kubernetes starts pods in any order", k.name), "make the app wait or retry for what it needs");
            }
            let cond = text_at(v, "condition").unwrap_or_default();
            if cond == "service_completed_successfully" {
                cx.item(Kind::Changed, k.pos, n, &setting, "waiting for a one-shot job to finish has no Kubernetes equivalent; the pods start together", "make the app retry until its dependency is ready, or run the job as an init step");
            }
        }
    }
    let data_paths: &[&str] = fallback.map(|k| k.data).unwrap_or(&[]);
    if !uses.is_empty() {
        body.push(
            Entry::new("uses", strs(uses.clone()))
                .note("from depends_on and host names in values; NetworkPolicies allow only these"),
        );
    }
    if !env.is_empty() {
        body.push(Entry::new(
            "env",
            Y::Map(env.into_iter().map(|(k, v)| Entry::new(k, s(v))).collect()),
        ));
    }
    // Volumes, tmpfs, configs, secrets.
    let mut writable: Vec<String> = Vec::new();
    let mut storage: Vec<(String, String)> = Vec::new();
    let mut config: Vec<(String, String, String, Pos)> = Vec::new(); // (mount dir, name, rel, pos)
    let mut secret_files: Vec<(String, String)> = Vec::new();
    for v in items(
        svc.get("volumes")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    ) {
        volume(
            cx,
            name,
            bname,
            v,
            data_paths,
            &mut writable,
            &mut storage,
            &mut config,
        );
    }
    for t in items(
        svc.get("tmpfs")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    ) {
        if let Some(p) = text(t) {
            let path = p.split(':').next().unwrap_or(&p).to_owned();
            if !writable.contains(&path) {
                writable.push(path);
            }
        }
    }
    for (i, c) in items(
        svc.get("configs")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    )
    .iter()
    .enumerate()
    {
        let source = text_at(c, "source").unwrap_or_default();
        let target = text_at(c, "target").unwrap_or_else(|| format!("/{source}"));
        let target = if target.starts_with('/') {
            target
        } else {
            format!("/{target}")
        };
        let def = cx
            .project
            .model
            .get("configs")
            .and_then(|x| x.get(&source))
            .cloned();
        let (dir, file) = split_target(&target);
        let rel = format!("config/{bname}/{file}");
        let setting = format!("configs[{i}]");
        match def.as_ref().map(|d| (text_at(d, "file"), text_at(d, "content"))) {
            Some((Some(f), _)) => {
                let src = cx.project.dir.join(&f);
                if cx.fs.is_file(&src) {
                    cx.files.push(OutFile { path: rel.clone(), source: FileSource::Copy(src) });
                    config.push((dir, file, rel, c.pos));
                } else {
                    cx.item(Kind::Dropped, c.pos, n, &setting, format!("config `{source}`: its file {f} is not in the project"), "add the file and import again, or add it under `config.files`");
                }
            }
            Some((None, Some(content))) => {
                cx.files.push(OutFile { path: rel.clone(), source: FileSource::Content(content) });
                config.push((dir, file, rel, c.pos));
            }
            _ => cx.item(Kind::Dropped, c.pos, n, &setting, format!("config `{source}` has no file or content berth can copy (external or from the environment)"), "add the file under `config.files`"),
        }
    }
    for (i, sref) in items(
        svc.get("secrets")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    )
    .iter()
    .enumerate()
    {
        let source = text_at(sref, "source").unwrap_or_default();
        let target = text_at(sref, "target").unwrap_or_else(|| source.clone());
        let target = if target.starts_with('/') {
            target
        } else {
            format!("/run/secrets/{target}")
        };
        let key = secret_key(&source);
        if !secrets.contains(&key) {
            secrets.push(key.clone());
            cx.report.secrets.push(SecretName {
                service: bname.to_owned(),
                name: key.clone(),
            });
        }
        let setting = format!("secrets[{i}]");
        if cx.features.secret_files {
            secret_files.push((target.clone(), key.clone()));
            cx.item(Kind::Secret, sref.pos, n, &setting, format!("compose secret `{source}` → Secret key `{key}`, mounted at {target}; the file's content is not copied"), format!("berth secret set ENV {bname} {key} < the-file"));
        } else {
            cx.item(Kind::Secret, sref.pos, n, &setting, format!("compose secret `{source}` → secret `{key}`, delivered as the environment variable {key}; compose mounted it as the file {target}, which this berth cannot do yet"), format!("make the app read ${key} (or its *_FILE variable) and set it: berth secret set ENV {bname} {key} < the-file"));
        }
    }
    if !secrets.is_empty() {
        body.push(
            Entry::new("secrets", strs(secrets.clone()))
                .note("names only: set each value with `berth secret set`"),
        );
    }
    if !secret_files.is_empty() {
        body.push(Entry::new(
            "secret-files",
            Y::Map(
                secret_files
                    .into_iter()
                    .map(|(p, k)| Entry::new(p, s(k)))
                    .collect(),
            ),
        ));
    }
    if !config.is_empty() {
        // One mount directory per service: the one with most files.
        let mut dirs: BTreeMap<String, usize> = BTreeMap::new();
        for (d, ..) in &config {
            *dirs.entry(d.clone()).or_default() += 1;
        }
        let mount = dirs
            .iter()
            .max_by_key(|(d, c)| (**c, std::cmp::Reverse((*d).clone())))
            .map(|(d, _)| d.clone())
            .unwrap();
        let mut files = Vec::new();
        for (d, file, rel, pos) in &config {
            let key_ok = !file.is_empty()
                && file.len() <= 253
                && file
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && file != "."
                && file != "..";
            if !key_ok {
                cx.item(Kind::Dropped, *pos, n, "volumes", format!("config file `{file}`: the name cannot be a ConfigMap key (letters, digits, `-`, `_`, `.`)"), "rename the file in the app");
                cx.files.retain(|f| f.path != *rel);
                continue;
            }
            if *d == mount && !files.iter().any(|e: &Entry| e.key == *file) {
                files.push(Entry::new(file.clone(), s(rel.clone())));
            } else {
                cx.item(Kind::Dropped, *pos, n, "volumes", format!("config file for {d}/{file}: berth mounts a service's config files in one directory ({mount})"), format!("move it into {mount} in the app, or merge the files"));
                cx.files.retain(|f| {
                    f.path != *rel
                        || config
                            .iter()
                            .any(|(d2, _, r2, _)| *d2 == mount && r2 == rel)
                });
            }
        }
        if mount == "/" || !mount.starts_with('/') {
            cx.item(
                Kind::Dropped,
                config[0].3,
                n,
                "volumes",
                format!("config files for {mount}: berth does not mount over the root directory"),
                "mount them in a directory of their own",
            );
            files.clear();
        }
        if !files.is_empty() {
            body.push(
                Entry::new(
                    "config",
                    Y::Map(vec![
                        Entry::new("files", Y::Map(files)),
                        Entry::new("mount", s(mount.clone())),
                    ]),
                )
                .note("REVIEW: the ConfigMap replaces the whole directory"),
            );
            let pos = config[0].3;
            cx.item(Kind::Review, pos, n, "volumes", format!("bind-mounted config files copied next to berth.yaml (config/{bname}/) and mounted read-only at {mount}; the mount hides whatever else the image has in {mount}"), "check the app still finds the image's other files there, or move the files into a directory of their own");
        }
    }
    // Resources.
    let limits = svc
        .get("deploy")
        .and_then(|d| d.get("resources"))
        .and_then(|r| r.get("limits"));
    let reservations = svc
        .get("deploy")
        .and_then(|d| d.get("resources"))
        .and_then(|r| r.get("reservations"));
    let pick = |n: Option<&Node>, k: &str| n.and_then(|x| text_at(x, k));
    let cpu_l = pick(limits, "cpus")
        .or_else(|| text_at(svc, "cpus"))
        .and_then(|v| cpu_quantity(&v));
    let cpu_r = pick(reservations, "cpus").and_then(|v| cpu_quantity(&v));
    let mem_l = pick(limits, "memory")
        .or_else(|| text_at(svc, "mem_limit"))
        .and_then(|v| memory_quantity(&v));
    let mem_r = pick(reservations, "memory")
        .or_else(|| text_at(svc, "mem_reservation"))
        .and_then(|v| memory_quantity(&v));
    // A reservation above the limit (compose accepts it) would be refused: the limit alone.
    let magnitude = |q: &str| -> f64 {
        let (num, unit) = q.split_at(q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len()));
        let n: f64 = num.parse().unwrap_or(0.0);
        n * match unit {
            "m" => 0.001,
            "Mi" => 1.0,
            "Gi" => 1024.0,
            _ => 1.0,
        }
    };
    let pair = |r: Option<String>, l: Option<String>| match (r, l) {
        (Some(r), Some(l)) if magnitude(&r) > magnitude(&l) => Some(l),
        (Some(r), Some(l)) => Some(format!("{r}/{l}")),
        (None, Some(l)) => Some(l),
        (Some(r), None) => Some(r),
        (None, None) => None,
    };
    let mut res = Vec::new();
    if let Some(c) = pair(cpu_r, cpu_l) {
        res.push(Entry::new("cpu", s(c)));
    }
    if let Some(m) = pair(mem_r, mem_l) {
        res.push(Entry::new("memory", s(m)));
    }
    if !res.is_empty() {
        body.push(Entry::new("resources", Y::Map(res)));
    }
    // Replicas.
    let replicas = svc
        .get("deploy")
        .and_then(|d| text_at(d, "replicas"))
        .or_else(|| text_at(svc, "scale"))
        .and_then(|r| r.parse::<u32>().ok());
    if fallback.is_some() {
        body.push(Entry::new("replicas", Y::Int(1)).note("a single server: its data is per pod"));
    } else if let Some(r) = replicas {
        if r == 0 {
            cx.item(
                Kind::Changed,
                svc.get("deploy").map(|d| d.pos).unwrap_or(svc.pos),
                n,
                "deploy.replicas",
                "0 replicas in compose; berth runs at least 1",
                "remove the service if it should not run",
            );
            body.push(Entry::new("replicas", Y::Int(1)));
        } else {
            body.push(Entry::new("replicas", Y::Int(r as i64)));
        }
    }
    // Writable paths and persistent data.
    if !storage.is_empty() {
        if cx.features.storage {
            body.push(
                Entry::new(
                    "storage",
                    Y::Map(
                        storage
                            .iter()
                            .map(|(p, size)| Entry::new(p.clone(), s(size.clone())))
                            .collect(),
                    ),
                )
                .note("REVIEW: sizes"),
            );
        } else {
            for (p, _) in &storage {
                if !writable.contains(p) {
                    writable.push(p.clone());
                }
            }
        }
    }
    if let Some(k) = &fallback {
        for p in k.data.iter().chain(k.writable) {
            if !writable.iter().any(|w| w == p) && !storage.iter().any(|(s, _)| s == p) {
                writable.push((*p).to_owned());
            }
        }
    }
    writable.retain(|w| w != "/tmp" && w.starts_with('/'));
    let mut seen = BTreeSet::new();
    writable.retain(|w| seen.insert(w.clone()));
    if !writable.is_empty() {
        body.push(Entry::new("writable", strs(writable.clone())));
    }
    // User.
    match text_at(svc, "user") {
        Some(u) => {
            let uid = u.split(':').next().unwrap_or("");
            match uid.parse::<u32>() {
                Ok(0) => cx.item(
                    Kind::Changed,
                    svc.get("user").unwrap().pos,
                    n,
                    "user",
                    "runs as root in compose; berth never runs as root (UID 10001)",
                    "make the image work as a non-root user, then set `user:` to its UID",
                ),
                Ok(id) => body.push(Entry::new("user", Y::Int(id as i64))),
                Err(_) if uid == "root" => cx.item(
                    Kind::Changed,
                    svc.get("user").unwrap().pos,
                    n,
                    "user",
                    "runs as root in compose; berth never runs as root (UID 10001)",
                    "make the image work as a non-root user, then set `user:` to its UID",
                ),
                Err(_) => cx.item(
                    Kind::Review,
                    svc.get("user").unwrap().pos,
                    n,
                    "user",
                    format!(
                        "user `{u}` is a name; Kubernetes needs a number, berth runs as UID 10001"
                    ),
                    format!("set `user:` to the UID of `{u}` in the image (`id -u {u}`)"),
                ),
            }
        }
        None => {
            if let Some(k) = &fallback {
                body.push(
                    Entry::new("user", Y::Int(k.uid as i64)).note("the image's non-root user"),
                );
            }
        }
    }
    if let Some(g) = text_at(svc, "stop_grace_period").and_then(|g| seconds(&g)) {
        body.push(Entry::new("grace", Y::Int(g as i64)));
    }
    if !matches!(
        svc.get("read_only").map(|r| &r.value),
        Some(Value::Bool(true))
    ) && fallback.is_none()
    {
        cx.item(Kind::Review, svc.pos, n, "read_only", "berth makes the root filesystem read-only (compose let the app write anywhere); /tmp and the `writable` paths stay writable", "run the app and add the directories it writes to under `writable:`");
    }
    other_settings(cx, name, svc);
    let mut e = Entry::new(bname.to_owned(), Y::Map(body));
    e.above = above;
    (e, own_image)
}

/// Replaces credential values written in commands by a reference to the variable holding them
/// (`$(VAR)` in Kubernetes command/args, `${VAR}` in a shell check), making the variable one of
/// the service's secrets.
#[allow(clippy::too_many_arguments)]
fn scrub(
    cx: &mut Ctx<'_>,
    name: &str,
    bname: &str,
    setting: &str,
    pos: Pos,
    words: &mut [String],
    open: &str,
    close: &str,
    secrets: &mut Vec<String>,
) {
    let mut values: Vec<(String, String)> = cx
        .secret_values
        .iter()
        .map(|(v, k)| (v.clone(), k.clone()))
        .collect();
    values.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    for w in words.iter_mut() {
        for (value, var) in &values {
            if !w.contains(value.as_str()) {
                continue;
            }
            *w = w.replace(value.as_str(), &format!("{open}{var}{close}"));
            if !secrets.contains(var) {
                secrets.push(var.clone());
                cx.report.secrets.push(SecretName {
                    service: bname.to_owned(),
                    name: var.clone(),
                });
            }
            cx.item(Kind::Secret, pos, Some(name), setting, format!("a credential written in the {setting} is replaced by {open}{var}{close}, read from the Secret"), format!("set {var}: berth secret set ENV {bname} {var} < file-with-value"));
        }
    }
}

fn split_target(target: &str) -> (String, String) {
    match target.rsplit_once('/') {
        Some(("", f)) => ("/".into(), f.to_owned()),
        Some((d, f)) => (d.to_owned(), f.to_owned()),
        None => ("/config".into(), target.to_owned()),
    }
}

/// One volume of a service.
#[allow(clippy::too_many_arguments)]
fn volume(
    cx: &mut Ctx<'_>,
    name: &str,
    bname: &str,
    v: &Node,
    data_paths: &[&str],
    writable: &mut Vec<String>,
    storage: &mut Vec<(String, String)>,
    config: &mut Vec<(String, String, String, Pos)>,
) {
    let n = Some(name);
    let kind = text_at(v, "type").unwrap_or_default();
    let source = text_at(v, "source").unwrap_or_default();
    let target = text_at(v, "target").unwrap_or_default();
    let setting = format!("volumes ({target})");
    match kind.as_str() {
        "volume" if source.is_empty() => {
            writable.push(target.clone());
            cx.item(Kind::Changed, v.pos, n, &setting, format!("anonymous volume → writable emptyDir at {target} (emptied when the pod is replaced)"), "nothing, unless the data must survive a restart");
        }
        "volume" => {
            if cx.features.storage {
                storage.push((target.clone(), "10Gi".into()));
                cx.item(Kind::Review, v.pos, n, &setting, format!("named volume `{source}` → persistent storage at {target}, 10Gi (the service becomes a StatefulSet)"), "set the size you need");
            } else {
                let _ = data_paths;
                storage.push((target.clone(), "10Gi".into()));
                cx.item(Kind::Changed, v.pos, n, &setting, format!("named volume `{source}` → a writable emptyDir at {target}: NOT persistent (this berth has no `storage:` yet)"), "keep real data in a managed database, or import again with a berth that has `storage:`");
            }
        }
        "tmpfs" => writable.push(target),
        "bind" => {
            if source.contains("docker.sock") {
                cx.item(
                    Kind::Refused,
                    v.pos,
                    n,
                    &setting,
                    "the Docker socket is not mounted: it gives the container root on the node",
                    "use the Kubernetes API with a ServiceAccount and RBAC instead",
                );
                return;
            }
            if source.starts_with('/')
                || source.starts_with('~')
                || (source.len() > 1 && source.as_bytes()[1] == b':')
            {
                cx.item(Kind::Refused, v.pos, n, &setting, format!("host path {source} is not mounted: pods move between nodes and must not read the node's files"), "put the data in `storage:` / a config file, or in a dependency");
                return;
            }
            let src = cx.project.dir.join(&source);
            if cx.fs.is_file(&src) {
                let (dir, file) = split_target(&target);
                let rel = format!("config/{bname}/{file}");
                cx.files.push(OutFile {
                    path: rel.clone(),
                    source: FileSource::Copy(src),
                });
                config.push((dir, file, rel, v.pos));
                return;
            }
            let config_like = target.starts_with("/etc/")
                || target.contains("conf")
                || target.ends_with("/config");
            let listed = list_dir(&src);
            match listed {
                Some(files) if config_like && !files.is_empty() && files.len() <= 50 => {
                    for f in files {
                        let rel = format!("config/{bname}/{f}");
                        cx.files.push(OutFile { path: rel.clone(), source: FileSource::Copy(src.join(&f)) });
                        config.push((target.clone(), f, rel, v.pos));
                    }
                }
                _ => cx.item(Kind::Dropped, v.pos, n, &setting, format!("bind mount of {source} (source code or a directory on the developer's machine) is not carried over"), "build what the app needs into the image; persistent data goes to `storage:`"),
            }
        }
        other => cx.item(
            Kind::Dropped,
            v.pos,
            n,
            &setting,
            format!("`{other}` volume has no Kubernetes equivalent here"),
            "remove it, or use `storage:`",
        ),
    }
}

/// Regular files directly in a directory (sorted), None when it is not a readable directory.
fn list_dir(dir: &Path) -> Option<Vec<String>> {
    let rd = std::fs::read_dir(dir).ok()?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        let meta = e.metadata().ok()?;
        if meta.is_dir() {
            return None;
        }
        if meta.is_file() && meta.len() <= 1 << 20 {
            out.push(p.file_name()?.to_string_lossy().into_owned());
        }
    }
    out.sort();
    Some(out)
}

/// Settings with no berth field: each reported with what berth does instead.
fn other_settings(cx: &mut Ctx<'_>, name: &str, svc: &Node) {
    let n = Some(name);
    for (k, v) in entries(svc) {
        let t = text(v).unwrap_or_default();
        let (kind, what, todo): (Kind, String, String) = match k.name.as_str() {
            "image" | "build" | "ports" | "expose" | "environment" | "command" | "entrypoint" | "healthcheck" | "depends_on" | "volumes" | "tmpfs" | "configs" | "secrets" | "user" | "stop_grace_period" | "read_only" | "cpus" | "mem_limit" | "mem_reservation" | "scale" | "profiles" => continue,
            "deploy" => {
                for (dk, dv) in entries(v) {
                    let (what, todo) = match dk.name.as_str() {
                        "replicas" | "resources" => continue,
                        "restart_policy" => ("Kubernetes restarts containers always (with back-off); compose's restart policy is not carried over".to_owned(), "nothing for a long-running service".to_owned()),
                        "update_config" | "rollback_config" => ("berth rolls out with RollingUpdate, maxUnavailable 0".to_owned(), "nothing".to_owned()),
                        "placement" => ("placement constraints are not carried over; berth spreads pods across zones and nodes".to_owned(), "add node affinity in a Kustomize patch if pods must run on particular nodes".to_owned()),
                        "mode" if text(dv).as_deref() == Some("global") => ("`mode: global` (one per node) is not carried over; berth runs a Deployment".to_owned(), "use a DaemonSet outside berth if it must run on every node".to_owned()),
                        other => (format!("deploy.{other} is not carried over"), "remove it".to_owned()),
                    };
                    cx.item(Kind::Dropped, dk.pos, n, &format!("deploy.{}", dk.name), what, todo);
                }
                continue;
            }
            "network_mode" if t == "host" => (Kind::Refused, "host networking is not reproduced: pods get their own network; the service is reached through its Service".into(), "listen on the container's port and let berth's Service route to it".into()),
            "network_mode" if t.starts_with("service:") => (Kind::Changed, format!("shares {}'s network in compose; berth runs it as its own pod", &t[8..]), "talk to it over its Service name instead of localhost".into()),
            "network_mode" => (Kind::Dropped, format!("network_mode `{t}` is not carried over"), "remove it".into()),
            "privileged" if t == "true" => (Kind::Refused, "privileged containers are not reproduced: berth drops all capabilities".into(), "find the one permission the app needs; most apps need none".into()),
            "privileged" => continue,
            "pid" | "ipc" | "uts" | "userns_mode" | "cgroup" if t == "host" => (Kind::Refused, format!("{} namespace of the host is not shared", k.name), "remove it".into()),
            "devices" | "device_cgroup_rules" | "gpus" => (Kind::Refused, "host devices are not mounted".into(), "use a device plugin and a Kustomize patch if the app really needs the device".into()),
            "cap_add" => (Kind::Refused, format!("capabilities {} are not added: berth drops all capabilities", items(v).iter().filter_map(text).collect::<Vec<_>>().join(", ")), "run without them (bind ports above 1024 instead of NET_BIND_SERVICE)".into()),
            "cap_drop" | "security_opt" => (Kind::Changed, format!("{} is subsumed: berth drops every capability, forbids privilege escalation and uses seccomp RuntimeDefault", k.name), "nothing".into()),
            "extra_hosts" => (Kind::Dropped, "extra /etc/hosts entries are not carried over".into(), "use DNS names, or a dependency with `host:` for an outside endpoint".into()),
            "links" => (Kind::Changed, "links become `uses` (the linked service is reached by its name)".into(), "nothing".into()),
            "external_links" => (Kind::Dropped, "external links are not carried over".into(), "declare the outside service as a dependency with `host:`".into()),
            "restart" if t == "no" => (Kind::Review, "`restart: no` in compose; Kubernetes keeps the service running and restarts it".into(), "if it is a one-shot job, run it outside berth (a Job) and remove it here".into()),
            "restart" if t == "on-failure" || t.starts_with("on-failure:") => (Kind::Changed, "Kubernetes restarts the container whenever it exits".into(), "nothing for a long-running service".into()),
            "restart" => continue,
            "networks" => {
                let named: Vec<&str> = entries(v).iter().map(|(k, _)| k.name.as_str()).filter(|n| *n != "default").collect();
                if named.is_empty() {
                    continue;
                }
                (Kind::Changed, format!("networks ({}) become NetworkPolicies: default deny, and each service reaches only what it `uses`", named.join(", ")), "check `uses` lists every service it calls".into())
            }
            "labels" if cx.features.labels => (Kind::Dropped, "container labels are not carried over".into(), "add the ones you need as `labels:` (pod labels)".into()),
            "labels" => (Kind::Dropped, "container labels are not carried over (traefik or other proxy labels: berth makes an Ingress from `expose`)".into(), "nothing, or pod labels in a Kustomize patch".into()),
            "container_name" | "hostname" | "domainname" => (Kind::Dropped, format!("{}: Kubernetes names pods itself; the service is reached by its name `{}`", k.name, cx.names[name]), "nothing".into()),
            "stdin_open" | "tty" | "attach" => (Kind::Dropped, format!("{} is for interactive use", k.name), "nothing".into()),
            "logging" => (Kind::Dropped, "logging drivers are not carried over: Kubernetes collects stdout and stderr".into(), "log to stdout".into()),
            "working_dir" => (Kind::Dropped, format!("working_dir {t} is not carried over"), "set WORKDIR in the image".into()),
            "init" => (Kind::Dropped, "the init process is not carried over".into(), "use an init (tini) in the image if the app spawns children".into()),
            "pull_policy" => (Kind::Dropped, "pull policy is Kubernetes' default (pinned tags are pulled once)".into(), "nothing".into()),
            "stop_signal" => (Kind::Dropped, format!("stop signal {t}: Kubernetes sends SIGTERM"), "make the app stop on SIGTERM".into()),
            "env_file" => continue,
            "dns" | "dns_search" | "dns_opt" => (Kind::Dropped, format!("{} is not carried over: pods use the cluster DNS", k.name), "nothing".into()),
            "sysctls" | "ulimits" | "shm_size" | "oom_score_adj" | "oom_kill_disable" | "pids_limit" | "memswap_limit" | "mem_swappiness" | "cpu_shares" | "cpu_quota" | "cpu_period" | "cpuset" | "blkio_config" | "storage_opt" | "cpu_count" | "cpu_percent" | "cpu_rt_period" | "cpu_rt_runtime" | "runtime" | "isolation" => (Kind::Dropped, format!("{} is a host-level tuning berth does not set", k.name), "use resources: requests and limits".into()),
            "platform" => (Kind::Dropped, format!("platform {t}: nodes pull the image for their own architecture"), "publish a multi-arch image if nodes differ".into()),
            "develop" => (Kind::Dropped, "compose watch (develop) is for local development".into(), "nothing".into()),
            "post_start" | "pre_stop" => (Kind::Dropped, format!("{} hooks are not carried over (berth sleeps 5 s before stopping)", k.name), "move the work into the app's start-up or shutdown".into()),
            "volumes_from" => (Kind::Dropped, "volumes_from is not carried over: pods do not share volumes".into(), "give each service what it needs through `config` or `storage`".into()),
            "annotations" => (Kind::Dropped, "container annotations are not carried over".into(), "nothing".into()),
            "extends" | "provider" | "models" | "credential_spec" | "cgroup_parent" | "mac_address" | "group_add" | "label_file" | "use_api_socket" | "pull_refresh_after" | "pid" | "ipc" | "uts" | "userns_mode" | "cgroup" => (Kind::Dropped, format!("{} is not carried over", k.name), "remove it".into()),
            x if x.starts_with("x-") => (Kind::Dropped, "compose extension field, not read by berth".into(), "nothing".into()),
            other => (Kind::Dropped, format!("{other} is not carried over"), "remove it".into()),
        };
        cx.item(kind, k.pos, n, &k.name, what, todo);
    }
}

/// A typed in-cluster dependency from a well-known image.
fn dependency(cx: &mut Ctx<'_>, name: &str, bname: &str, svc: &Node, k: &Known) -> Entry {
    let n = Some(name);
    let image = text_at(svc, "image").unwrap_or_default();
    let (registry, repository, tag, _) = catalogue::split_image(&image);
    let mut body = vec![
        Entry::new("type", s(k.kind)),
        Entry::new("mode", s("in-cluster")),
    ];
    match tag.as_deref() {
        Some(t) if t != "latest" => body.push(Entry::new("version", s(t.to_owned()))),
        _ => cx.item(
            Kind::Review,
            svc.get("image").map(|i| i.pos).unwrap_or(svc.pos),
            n,
            "image",
            format!(
                "`{image}` has no version; berth runs its catalogue's default version of {}",
                k.kind
            ),
            "set `version:` to the version you run",
        ),
    }
    let official = registry.is_empty() && !repository.contains('/');
    if !official {
        cx.item(Kind::Changed, svc.get("image").map(|i| i.pos).unwrap_or(svc.pos), n, "image", format!("`{image}` → berth's catalogue image of {} (same version tag)", k.kind), "check the tag exists for the official image; its settings (environment) may differ from this image's");
    }
    let has_named = items(
        svc.get("volumes")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    )
    .iter()
    .any(|v| text_at(v, "type").as_deref() == Some("volume") && v.get("source").is_some());
    body.push(Entry::new("storage", s("10Gi")).note(if has_named {
        "REVIEW: size (compose kept the data in a named volume)"
    } else {
        "REVIEW: size (compose kept no volume: data was lost with the container)"
    }));
    if cx.features.databases
        && let Some(var) = k.database_env
        && let Some(db) = svc
            .get("environment")
            .and_then(|e| e.get(var))
            .and_then(text)
        && !db.is_empty()
    {
        let dbname = db.to_ascii_lowercase().replace('-', "_");
        if berth_spec::dependency::postgres::accepts_database_name(&dbname) {
            body.push(Entry::new("databases", strs([dbname])));
        } else {
            // `postgres` is the server's maintenance database (and its superuser's name): berth
            // gives the app a database and owner role of its own instead.
            let pos = svc
                .get("environment")
                .and_then(|e| e.get(var))
                .map_or(svc.pos, |v| v.pos);
            cx.item(
                Kind::Changed,
                pos,
                n,
                &format!("environment.{var}"),
                format!("database `{db}` → berth's default database (PostgreSQL's own names are not given to an app)"),
                "services that `use` it get its name in their connection settings; set `databases:` to name it",
            );
        }
    }
    // What compose set that the catalogue decides.
    for (ek, ev) in entries(
        svc.get("environment")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    ) {
        let setting = format!("environment.{}", ek.name);
        if is_credential(&ek.name, text(ev).as_deref()) {
            cx.item(Kind::Secret, ek.pos, n, &setting, format!("{} credentials are generated by berth's in-cluster {} and kept in a Secret; the compose value is not copied", k.kind, k.kind), "services that `use` it get the connection settings; remove hard-coded credentials from their environment");
        } else if Some(ek.name.as_str()) == k.database_env {
            continue;
        } else {
            cx.item(
                Kind::Dropped,
                ek.pos,
                n,
                &setting,
                format!(
                    "server setting for {}: berth's catalogue configures the server",
                    k.kind
                ),
                "if the app depends on it, run the server as a service instead",
            );
        }
    }
    for v in items(
        svc.get("volumes")
            .unwrap_or(&Node::new(Value::Null, Pos::default())),
    ) {
        if text_at(v, "type").as_deref() == Some("bind") {
            let target = text_at(v, "target").unwrap_or_default();
            cx.item(Kind::Dropped, v.pos, n, &format!("volumes ({target})"), "files mounted into the database server (init scripts, configuration) are not carried over", "run schema set-up as migrations of the service that owns the data");
        }
    }
    for (key, what) in [
        (
            "ports",
            "the server is reachable only inside the cluster, by services that `use` it",
        ),
        (
            "command",
            "server flags are not carried over: the catalogue configures the server",
        ),
        ("healthcheck", "the catalogue has its own probes"),
    ] {
        if let Some(v) = svc.get(key) {
            cx.item(
                Kind::Dropped,
                v.pos,
                n,
                key,
                what,
                "nothing, or run the server as a service if it needs these",
            );
        }
    }
    Entry::new(bname.to_owned(), Y::Map(body))
}

fn secrets_howto(cx: &mut Ctx<'_>) {
    if cx.report.secrets.is_empty() {
        return;
    }
    cx.item(
        Kind::Review,
        Pos::default(),
        None,
        "secrets",
        format!("{} secret values are not in berth.yaml; the workloads read them from the Secrets SERVICE-secrets", cx.report.secrets.len()),
        "seal them per environment: add `secrets: { mode: sealed, cert: certs/ENV.pem, values: secrets/ENV/ }` to each environment, then `berth secret set ENV SERVICE NAME < file` for each name listed (see docs/secrets.md)",
    );
}

/// `berth init`: a commented spec for services given as `NAME=IMAGE:PORT` (or a template).
pub fn scaffold(app: &str, services: &[(String, String, Option<u16>)]) -> String {
    let app = dns_name(app, 30);
    let list: Vec<(String, String, Option<u16>)> = if services.is_empty() {
        vec![(
            "web".into(),
            "nginxinc/nginx-unprivileged:1.27".into(),
            Some(8080),
        )]
    } else {
        services.to_vec()
    };
    let mut svcs = Vec::new();
    for (i, (name, image, port)) in list.iter().enumerate() {
        let mut body = vec![Entry::new("image", s(image.clone()))];
        if let Some(p) = port {
            body.push(Entry::new("port", Y::Int(*p as i64)));
            body.push(
                Entry::new("health", Y::Map(vec![Entry::new("ready", s("/"))]))
                    .note("REVIEW: the app's readiness path"),
            );
            if i == 0 {
                body.push(Entry::new(
                    "expose",
                    Y::Map(vec![
                        Entry::new("host", s(format!("{}.example.com", dns_name(name, 50))))
                            .note("REVIEW: the public host name"),
                        Entry::new("path", s("/")),
                        Entry::new("tls", Y::Bool(true)),
                    ]),
                ));
            }
        }
        body.push(Entry::new(
            "env",
            Y::Map(vec![Entry::new("LOG_LEVEL", s("info"))]),
        ));
        body.push(Entry::new(
            "resources",
            Y::Map(vec![
                Entry::new("cpu", s("100m/500m")),
                Entry::new("memory", s("128Mi/256Mi")),
            ]),
        ));
        svcs.push(Entry::new(dns_name(name, 50), Y::Map(body)));
    }
    let top = vec![
        Entry::new("app", s(app.clone())).above("berth.yaml written by `berth init`. Reference: docs/spec.md; `berth build` renders and checks every environment."),
        Entry::new("services", Y::Map(svcs)),
        Entry::new("environments", Y::Map(vec![
            Entry::new("dev", Y::Map(vec![Entry::new("replicas", Y::Int(1))])),
            Entry::new("staging", Y::Map(vec![])),
            Entry::new("prod", Y::Map(vec![])),
        ])),
    ];
    let mut out = String::new();
    write_map(&mut out, &top, 0);
    out
}
