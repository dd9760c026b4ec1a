//! An environment's `secrets:` block: how the values of the services' `secrets` reach the cluster.
//!
//! The values (or their sealed form) are read here, at load time, through the loader's
//! `read_file`, so rendering stays pure. Plaintext values are held in [`SecretValue`], which
//! never shows its contents (`Debug` prints the length only) and is zeroed when dropped.

use crate::error::SpecError;
use crate::model::{Environment, SecretMode, SecretsSettings, Spec, StoreKind, Tier};
use crate::resolve::tier_of;
use crate::validate::Ctx;
use berth_yaml::Node;
use indexmap::IndexMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Default `refreshInterval` of ExternalSecrets.
pub const DEFAULT_REFRESH: &str = "1h";

/// Options of the loader that are not in the spec (command-line decisions).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Accept `mode: plain` outside tier dev (`--allow-plain-secrets`).
    pub allow_plain_secrets: bool,
    /// Missing dotenv keys and sealed files are not errors (they resolve to `None`); for the
    /// commands that manage the values (`berth secret set|list`), which must work before every
    /// value exists. Renderers never use it.
    pub secret_values_optional: bool,
}

/// A plaintext secret value. Its `Debug` shows only its length; its memory is zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretValue(Zeroizing::new(bytes))
    }
    /// The value itself: only for putting it into the object that delivers it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValue(<redacted, {} bytes>)", self.0.len())
    }
}

/// How one environment delivers its secrets, with everything read that rendering needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SecretDelivery {
    /// No `secrets:` block: workloads reference `NAME-secrets`, which is created outside berth.
    #[default]
    References,
    Plain(PlainSecrets),
    Sealed(SealedSecrets),
    External(ExternalSecrets),
}

impl SecretDelivery {
    pub fn mode(&self) -> Option<SecretMode> {
        match self {
            SecretDelivery::References => None,
            SecretDelivery::Plain(_) => Some(SecretMode::Plain),
            SecretDelivery::Sealed(_) => Some(SecretMode::Sealed),
            SecretDelivery::External(_) => Some(SecretMode::External),
        }
    }
}

/// `mode: plain`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainSecrets {
    /// The dotenv file, as written in the spec.
    pub from: String,
    /// Service → (key, value) for each of its `secrets`, in spec order. `None` only with
    /// [`LoadOptions::secret_values_optional`].
    pub services: IndexMap<String, Vec<(String, Option<SecretValue>)>>,
}

/// `mode: sealed`.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedSecrets {
    /// The certificate file, as written in the spec.
    pub cert: String,
    /// Its contents (PEM).
    pub cert_pem: Vec<u8>,
    /// The directory of sealed values, as written in the spec.
    pub values: String,
    /// Service → (key, base64 sealed value) for each of its `secrets`. `None` only with
    /// [`LoadOptions::secret_values_optional`].
    pub services: IndexMap<String, Vec<(String, Option<String>)>>,
}

impl SealedSecrets {
    /// Where the sealed value of `service`'s `key` lives, relative to berth.yaml.
    pub fn value_path(&self, service: &str, key: &str) -> PathBuf {
        sealed_path(&self.values, service, key)
    }
}

fn sealed_path(values: &str, service: &str, key: &str) -> PathBuf {
    Path::new(values).join(service).join(key)
}

/// `mode: external`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalSecrets {
    pub store: String,
    pub store_kind: StoreKind,
    /// Prefix of the remote keys (no trailing `/`); service `NAME` reads `PATH/NAME`.
    pub path: String,
    pub refresh: String,
    /// Service → its secret names (the properties of its remote key).
    pub services: IndexMap<String, Vec<String>>,
}

impl ExternalSecrets {
    pub fn remote_key(&self, service: &str) -> String {
        format!("{}/{service}", self.path)
    }
}

const MODE_KEYS: &[(SecretMode, &[&str])] = &[
    (SecretMode::Plain, &["from"]),
    (SecretMode::Sealed, &["cert", "values"]),
    (
        SecretMode::External,
        &["store", "storeKind", "path", "refresh"],
    ),
];

struct SecretsCtx<'a, 'b> {
    ctx: &'a Ctx<'b>,
    node: Option<&'a Node>,
}

impl SecretsCtx<'_, '_> {
    /// An error at `environments.ENV.secrets.KEY` (or the block itself for an empty key).
    fn err(&self, key: &str, message: impl Into<String>, help: Option<String>) -> SpecError {
        let node = self
            .node
            .and_then(|n| if key.is_empty() { None } else { n.get(key) })
            .or(self.node)
            .or(self.ctx.env_root)
            .unwrap_or(self.ctx.root);
        let mut path = format!("environments.{}.secrets", self.ctx.env);
        if !key.is_empty() {
            path.push('.');
            path.push_str(key);
        }
        SpecError::new(self.ctx.source, node.pos, path, message, help)
    }
}

pub(crate) fn resolve_secrets(
    ctx: &Ctx,
    spec: &Spec,
    env: &Environment,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    options: &LoadOptions,
    dependencies: &[crate::dependency::postgres::ResolvedDependency],
) -> Result<SecretDelivery, Vec<SpecError>> {
    let Some(settings) = &env.secrets else {
        return Ok(SecretDelivery::References);
    };
    let sc = SecretsCtx {
        ctx,
        node: ctx.env_root.and_then(|n| n.get("secrets")),
    };
    let mut errors = Vec::new();

    // Keys of another mode are mistakes (a half-edited block), not something to ignore.
    let allowed = MODE_KEYS
        .iter()
        .find(|(m, _)| *m == settings.mode)
        .map(|(_, k)| *k)
        .unwrap_or_default();
    for (key, set) in [
        ("from", settings.from.is_some()),
        ("cert", settings.cert.is_some()),
        ("values", settings.values.is_some()),
        ("store", settings.store.is_some()),
        ("storeKind", settings.store_kind.is_some()),
        ("path", settings.path.is_some()),
        ("refresh", settings.refresh.is_some()),
    ] {
        if set && !allowed.contains(&key) {
            let owner = MODE_KEYS
                .iter()
                .find(|(_, k)| k.contains(&key))
                .map(|(m, _)| m.as_str())
                .unwrap_or_default();
            errors.push(sc.err(
                key,
                format!(
                    "`{key}` belongs to `mode: {owner}`, but this environment uses `mode: {}`",
                    settings.mode.as_str()
                ),
                Some(format!(
                    "remove `{key}`; `mode: {}` takes {}",
                    settings.mode.as_str(),
                    allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ));
        }
    }

    // The secret names each service reads, in spec order (only services that have some).
    // (`secret-files` keys count: they are keys of the same Secret.)
    let mut owned: Vec<(String, Vec<String>)> = spec
        .services
        .iter()
        .map(|(name, svc)| (name.clone(), svc.secret_keys()))
        .filter(|(_, k)| !k.is_empty())
        .collect();
    // Database roles: their Secret is the owner; plain mode reads `DEP_ROLE_PASSWORD`, the
    // others a `password` value.
    for dep in dependencies {
        for c in crate::dependency::postgres::credentials(dep) {
            let key = match settings.mode {
                SecretMode::Plain => c.dotenv_key,
                _ => "password".to_owned(),
            };
            owned.push((c.secret, vec![key]));
        }
        // A KRaft cluster ID: its Secret is the owner, its key `CLUSTER_ID` (plain: the dotenv key).
        if let Some(c) = crate::dependency::kafka::cluster_id(dep) {
            let key = match settings.mode {
                SecretMode::Plain => c.dotenv_key,
                _ => crate::dependency::kafka::CLUSTER_ID_KEY.to_owned(),
            };
            owned.push((c.secret, vec![key]));
        }
    }
    let wanted: Vec<(&str, &[String])> = owned
        .iter()
        .map(|(n, k)| (n.as_str(), k.as_slice()))
        .collect();

    let delivery = match settings.mode {
        SecretMode::Plain => {
            let tier = tier_of(ctx.env, env);
            plain(
                &sc,
                settings,
                tier,
                &wanted,
                read_file,
                options,
                &mut errors,
            )
        }
        SecretMode::Sealed => sealed(&sc, settings, &wanted, read_file, options, &mut errors),
        SecretMode::External => external(&sc, settings, &wanted, &mut errors),
    };
    // A plain cluster ID is checked here (sealed and external ones cannot be read): a value that
    // is not a Kafka UUID makes `kafka-storage.sh format` fail on every broker at its first start.
    if let Some(SecretDelivery::Plain(p)) = &delivery {
        for dep in dependencies {
            let Some(c) = crate::dependency::kafka::cluster_id(dep) else {
                continue;
            };
            let value = p
                .services
                .get(&c.secret)
                .and_then(|v| v.first())
                .and_then(|(_, v)| v.as_ref());
            if let Some(v) = value
                && std::str::from_utf8(v.expose())
                    .ok()
                    .and_then(|t| crate::dependency::kafka::decode_uuid(t.trim()))
                    .is_none()
            {
                errors.push(sc.err(
                    "from",
                    format!(
                        "`{}` in `{}` is not a Kafka cluster ID (22 characters of URL-safe base64, a 16-byte UUID), so the brokers of `{}` could not format their storage",
                        c.dotenv_key,
                        p.from,
                        dep.name
                    ),
                    Some(
                        "replace it with a new ID, e.g. the output of `kafka-storage.sh random-uuid` or `python3 -c 'import uuid,base64;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip(\"=\"))'`; a cluster that already ran keeps the ID in its log dirs' meta.properties: use that one"
                        .to_owned(),
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(delivery.expect("no errors means a delivery"))
    } else {
        Err(errors)
    }
}

/// `mode: sealed` seals each credential for one namespace and Secret name (strict scope), so a
/// service in another namespace group cannot be given a copy of it: an error at the service's
/// `namespace`, with the ways out. (Plain and external copies are rendered per namespace.)
pub(crate) fn sealed_across_namespaces(
    ctx: &Ctx,
    env: &Environment,
    app: &crate::App,
) -> Vec<SpecError> {
    if env.secrets.as_ref().map(|s| s.mode) != Some(SecretMode::Sealed) {
        return Vec::new();
    }
    let mut errors = Vec::new();
    for dep in &app.dependencies {
        for (ns, svc, c) in
            crate::dependency::postgres::foreign_credentials(&app.namespace, &app.services, dep)
        {
            errors.push(ctx.err(
                &["services", &svc, "namespace"],
                format!(
                    "service `{svc}` runs in namespace `{ns}` and reads `{}` of `{}`, but `mode: sealed` seals that credential for namespace `{}` only (strict scope), and a Secret — like the Dapr Component that references it — is read only in its own namespace",
                    c.secret, dep.name, app.namespace
                ),
                Some(format!(
                    "run `{svc}` in the environment's namespace (map its group to `{}` under `environments.{}.namespaces`), or use `mode: external`, which berth renders as an ExternalSecret in every namespace that reads it",
                    app.namespace, ctx.env
                )),
            ));
        }
    }
    errors
}

fn required<'s>(
    sc: &SecretsCtx,
    value: &'s Option<String>,
    key: &str,
    mode: &str,
    example: &str,
    errors: &mut Vec<SpecError>,
) -> Option<&'s str> {
    match value.as_deref() {
        Some(v) if !v.trim().is_empty() => Some(v),
        Some(_) => {
            errors.push(sc.err(
                key,
                format!("`{key}` is empty"),
                Some(format!("e.g. `{key}: {example}`")),
            ));
            None
        }
        None => {
            errors.push(sc.err(
                "",
                format!("`mode: {mode}` needs `{key}`"),
                Some(format!("add `{key}: {example}`")),
            ));
            None
        }
    }
}

fn plain(
    sc: &SecretsCtx,
    settings: &SecretsSettings,
    tier: Tier,
    wanted: &[(&str, &[String])],
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    options: &LoadOptions,
    errors: &mut Vec<SpecError>,
) -> Option<SecretDelivery> {
    let env = sc.ctx.env;
    if tier != Tier::Dev && !options.allow_plain_secrets && !options.secret_values_optional {
        errors.push(sc.err(
            "mode",
            format!(
                "environment `{env}` is tier {}: `mode: plain` would put secret values into its manifests in plaintext",
                tier.as_str()
            ),
            Some("use `mode: sealed` or `mode: external` outside dev (see docs/secrets.md), or pass `--allow-plain-secrets` for a throwaway environment".into()),
        ));
    }
    let from = required(sc, &settings.from, "from", "plain", ".env.dev", errors)?;
    let parsed = match read_file(Path::new(from)) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            match parse_dotenv(&bytes) {
                Ok(values) => Some(values),
                Err(reason) => {
                    errors.push(sc.err("from", format!("`{from}`: {reason}"), Some("write one `KEY=value` per line (`#` starts a comment; quote values with spaces or `#`)".into())));
                    return None;
                }
            }
        }
        Err(e) if options.secret_values_optional && e.kind() == std::io::ErrorKind::NotFound => {
            None
        }
        Err(e) => {
            errors.push(sc.err(
                "from",
                format!("cannot read the dotenv file `{from}`: {e}"),
                Some("the path is relative to the directory holding berth.yaml; create the file with one `KEY=value` per line (dev values only)".into()),
            ));
            return None;
        }
    };
    let mut services = IndexMap::new();
    for (service, keys) in wanted {
        let mut entries = Vec::new();
        for key in keys.iter() {
            let value = parsed
                .as_ref()
                .and_then(|p| p.get(key.as_str()))
                .map(|v| SecretValue::new(v.to_vec()));
            if value.is_none() && !options.secret_values_optional {
                errors.push(sc.err(
                    "from",
                    format!("`{from}` has no value for `{key}` (a secret of service `{service}`)"),
                    Some(format!("add a line `{key}=...` to `{from}`")),
                ));
            }
            entries.push((key.clone(), value));
        }
        services.insert((*service).to_owned(), entries);
    }
    Some(SecretDelivery::Plain(PlainSecrets {
        from: from.to_owned(),
        services,
    }))
}

fn sealed(
    sc: &SecretsCtx,
    settings: &SecretsSettings,
    wanted: &[(&str, &[String])],
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    options: &LoadOptions,
    errors: &mut Vec<SpecError>,
) -> Option<SecretDelivery> {
    let env = sc.ctx.env;
    let cert = required(
        sc,
        &settings.cert,
        "cert",
        "sealed",
        &format!("certs/{env}.pem"),
        errors,
    );
    let values = required(
        sc,
        &settings.values,
        "values",
        "sealed",
        &format!("secrets/{env}/"),
        errors,
    );
    let cert_pem = cert.and_then(|cert| match read_file(Path::new(cert)) {
        Ok(bytes) if bytes.windows(11).any(|w| w == b"-----BEGIN ") => Some(bytes),
        Ok(_) => {
            errors.push(sc.err(
                "cert",
                format!("`{cert}` is not a PEM certificate"),
                Some(format!("fetch the controller's certificate: `berth seal --fetch-cert > {cert}`")),
            ));
            None
        }
        Err(e) => {
            errors.push(sc.err(
                "cert",
                format!("cannot read the sealing certificate `{cert}`: {e}"),
                Some(format!("fetch the controller's certificate: `berth seal --fetch-cert > {cert}` (the path is relative to the directory holding berth.yaml)")),
            ));
            None
        }
    });
    let values = values?;
    let mut services = IndexMap::new();
    for (service, keys) in wanted {
        let mut entries = Vec::new();
        for key in keys.iter() {
            let path = sealed_path(values, service, key);
            let shown = path.display();
            let set_cmd = format!("berth secret set {env} {service} {key}");
            let sealed = match read_file(&path) {
                Ok(bytes) => {
                    let text = String::from_utf8(bytes).ok().map(|t| t.trim().to_owned());
                    match text {
                        Some(t) if options.secret_values_optional || is_sealed_value(&t) => Some(t),
                        _ => {
                            errors.push(sc.err(
                                "values",
                                format!("`{shown}` is not a sealed value (expected the base64 text that `berth secret set` writes)"),
                                Some(format!("seal the value again: `{set_cmd}`")),
                            ));
                            None
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if !options.secret_values_optional {
                        errors.push(sc.err(
                            "values",
                            format!("no sealed value for `{key}` of service `{service}`: `{shown}` does not exist"),
                            Some(format!("seal it: `{set_cmd}` (reads the value from standard input)")),
                        ));
                    }
                    None
                }
                Err(e) => {
                    errors.push(sc.err(
                        "values",
                        format!("cannot read the sealed value `{shown}`: {e}"),
                        None,
                    ));
                    None
                }
            };
            entries.push((key.clone(), sealed));
        }
        services.insert((*service).to_owned(), entries);
    }
    Some(SecretDelivery::Sealed(SealedSecrets {
        cert: cert?.to_owned(),
        cert_pem: cert_pem?,
        values: values.to_owned(),
        services,
    }))
}

/// Does `text` look like what sealing produces: base64 of a 2-byte length, an RSA ciphertext of
/// that length and an AES-GCM ciphertext with its 16-byte tag? (Catches a plaintext value pasted
/// into a sealed file before it is published in a manifest.)
pub fn is_sealed_value(text: &str) -> bool {
    use base64::Engine as _;
    let Ok(blob) = base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) else {
        return false;
    };
    if blob.len() < 2 {
        return false;
    }
    let rsa_len = u16::from_be_bytes([blob[0], blob[1]]) as usize;
    (128..=1024).contains(&rsa_len) && blob.len() >= 2 + rsa_len + 16
}

fn external(
    sc: &SecretsCtx,
    settings: &SecretsSettings,
    wanted: &[(&str, &[String])],
    errors: &mut Vec<SpecError>,
) -> Option<SecretDelivery> {
    let store = required(
        sc,
        &settings.store,
        "store",
        "external",
        "aws-secrets-manager",
        errors,
    );
    if let Some(store) = store
        && !is_dns_subdomain(store)
    {
        errors.push(sc.err(
            "store",
            format!("store name `{store}` is not a Kubernetes object name"),
            Some("use the `metadata.name` of the SecretStore or ClusterSecretStore (lowercase letters, digits, `-` and `.`)".into()),
        ));
    }
    let path = required(sc, &settings.path, "path", "external", "todo/prod", errors);
    let refresh = settings
        .refresh
        .clone()
        .unwrap_or_else(|| DEFAULT_REFRESH.into());
    if !is_duration(&refresh) {
        errors.push(sc.err(
            "refresh",
            format!("`{refresh}` is not a duration"),
            Some("write a number and a unit (`h`, `m`, `s`), e.g. `1h`, `15m` or `1h30m`".into()),
        ));
    }
    let services = wanted
        .iter()
        .map(|(s, keys)| ((*s).to_owned(), keys.to_vec()))
        .collect();
    Some(SecretDelivery::External(ExternalSecrets {
        store: store?.to_owned(),
        store_kind: settings.store_kind.unwrap_or_default(),
        path: path?.trim_end_matches('/').to_owned(),
        refresh,
        services,
    }))
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A Go duration as External Secrets parses it: `1h`, `15m`, `1h30m`, `90s`, `0`.
fn is_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 || rest[..digits].parse::<f64>().is_err() {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "h", "m", "s"]
            .iter()
            .find(|u| rest.starts_with(**u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// A dotenv file: `KEY=value` lines, `export KEY=value`, `#` comments, blank lines; values
/// unquoted (trimmed, ` #` starts a comment), in single quotes (literal) or double quotes
/// (`\n`, `\t`, `\"`, `\\` escapes); quoted values may span lines. The last of repeated keys wins.
/// Errors name the line, never its contents.
pub fn parse_dotenv(bytes: &[u8]) -> Result<IndexMap<String, Zeroizing<Vec<u8>>>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = IndexMap::new();
    let chars: Vec<char> = text.chars().collect();
    let chars = Zeroizing::new(chars);
    let mut i = 0;
    let mut line = 1;
    let n = chars.len();
    while i < n {
        // Start of a line: skip blanks.
        while i < n && (chars[i] == ' ' || chars[i] == '\t' || chars[i] == '\r') {
            i += 1;
        }
        if i >= n {
            break;
        }
        if chars[i] == '\n' {
            i += 1;
            line += 1;
            continue;
        }
        if chars[i] == '#' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let start_line = line;
        let key_start = i;
        while i < n && chars[i] != '=' && chars[i] != '\n' {
            i += 1;
        }
        if i >= n || chars[i] != '=' {
            return Err(format!("line {start_line}: expected `KEY=value`"));
        }
        let mut key: String = chars[key_start..i].iter().collect();
        key = key.trim().to_owned();
        if let Some(k) = key.strip_prefix("export ") {
            key = k.trim().to_owned();
        }
        let valid_key = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !valid_key {
            return Err(format!(
                "line {start_line}: the name before `=` is not a variable name"
            ));
        }
        i += 1; // '='
        while i < n && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        let mut value = Zeroizing::new(String::new());
        if i < n && (chars[i] == '"' || chars[i] == '\'') {
            let quote = chars[i];
            i += 1;
            let mut closed = false;
            while i < n {
                let c = chars[i];
                if c == quote {
                    closed = true;
                    i += 1;
                    break;
                }
                if c == '\n' {
                    line += 1;
                }
                if quote == '"' && c == '\\' && i + 1 < n {
                    i += 1;
                    match chars[i] {
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        't' => value.push('\t'),
                        other => value.push(other),
                    }
                } else {
                    value.push(c);
                }
                i += 1;
            }
            if !closed {
                return Err(format!(
                    "line {start_line}: the quoted value is never closed"
                ));
            }
            // Only a comment may follow the closing quote.
            while i < n && chars[i] != '\n' {
                if chars[i] == '#' {
                    while i < n && chars[i] != '\n' {
                        i += 1;
                    }
                    break;
                }
                if !chars[i].is_whitespace() {
                    return Err(format!(
                        "line {start_line}: unexpected text after the closing quote"
                    ));
                }
                i += 1;
            }
        } else {
            let mut prev_space = true;
            while i < n && chars[i] != '\n' {
                if chars[i] == '#' && prev_space {
                    while i < n && chars[i] != '\n' {
                        i += 1;
                    }
                    break;
                }
                prev_space = chars[i] == ' ' || chars[i] == '\t';
                value.push(chars[i]);
                i += 1;
            }
            let trimmed_len = value.trim_end().len();
            value.truncate(trimmed_len);
        }
        out.insert(key, Zeroizing::new(value.as_bytes().to_vec()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(text: &str, key: &str) -> Option<String> {
        parse_dotenv(text.as_bytes())
            .unwrap()
            .get(key)
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
    }

    #[test]
    fn dotenv_forms() {
        let text = "# dev only\n\nA=1\nexport B = two words  # comment\nC='single # kept'\nD=\"x\\ny\"\nE=\"multi\nline\"\nF=\nG=a#b\nA=last\r\n";
        assert_eq!(get(text, "A").as_deref(), Some("last"));
        assert_eq!(get(text, "B").as_deref(), Some("two words"));
        assert_eq!(get(text, "C").as_deref(), Some("single # kept"));
        assert_eq!(get(text, "D").as_deref(), Some("x\ny"));
        assert_eq!(get(text, "E").as_deref(), Some("multi\nline"));
        assert_eq!(get(text, "F").as_deref(), Some(""));
        assert_eq!(get(text, "G").as_deref(), Some("a#b"));
        assert_eq!(get(text, "H"), None);
    }

    #[test]
    fn dotenv_errors_name_the_line_not_the_value() {
        let e = parse_dotenv(b"A=1\nsupersecretwithoutequals\n").unwrap_err();
        assert_eq!(e, "line 2: expected `KEY=value`");
        assert!(!e.contains("supersecret"));
        let e = parse_dotenv(b"A=1\nB=\"hunter2\n").unwrap_err();
        assert_eq!(e, "line 2: the quoted value is never closed");
        let e = parse_dotenv(b"1A=x\n").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
        let e = parse_dotenv(b"A=\"x\" trailing\n").unwrap_err();
        assert!(e.contains("after the closing quote"), "{e}");
    }

    #[test]
    fn secret_value_debug_is_redacted() {
        let v = SecretValue::new(b"hunter2".to_vec());
        let shown = format!("{v:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("7 bytes"), "{shown}");
    }

    #[test]
    fn durations() {
        for ok in ["1h", "15m", "1h30m", "90s", "0", "1.5h", "500ms"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "1", "h", "1d", "1 h", "-1h", "1h-"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn sealed_value_shape() {
        use base64::Engine as _;
        let mut blob = vec![0x02, 0x00];
        blob.extend(std::iter::repeat_n(7u8, 512 + 16 + 3));
        let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
        assert!(is_sealed_value(&b64));
        assert!(!is_sealed_value("hunter2"));
        assert!(!is_sealed_value("aHVudGVyMg=="));
    }
}
