//! Short syntaxes to the long ones `docker compose config` prints: `environment` and `labels`
//! lists to mappings, `"8080:80/udp"` to port objects (ranges expanded), `"./a:/b:ro"` to volume
//! objects, `depends_on` lists to conditions, strings to shell-split command lists, …

use super::tree::{entries, items, key, remove, set, str_node, text};
use berth_yaml::{Node, Pos, Value};

/// An error in one value: where, and compose's wording.
#[derive(Debug, Clone)]
pub struct CanonError {
    pub pos: Pos,
    pub message: String,
}

fn err(pos: Pos, message: impl Into<String>) -> CanonError {
    CanonError {
        pos,
        message: message.into(),
    }
}

fn map(entries: Vec<(berth_yaml::Key, Node)>, pos: Pos) -> Node {
    Node::new(Value::Map(entries), pos)
}

fn seq(items: Vec<Node>, pos: Pos) -> Node {
    Node::new(Value::Seq(items), pos)
}

fn int(i: i64, pos: Pos) -> Node {
    Node::new(Value::Int(i), pos)
}

fn boolean(b: bool, pos: Pos) -> Node {
    Node::new(Value::Bool(b), pos)
}

/// Canonical form of one service, in place. Errors are collected, not fatal.
pub fn service(svc: &mut Node, errors: &mut Vec<CanonError>) {
    if !matches!(svc.value, Value::Map(_)) {
        if matches!(svc.value, Value::Null) {
            svc.value = Value::Map(Vec::new());
        } else {
            errors.push(err(
                svc.pos,
                format!("must be a mapping, found {}", svc.value.type_name()),
            ));
            return;
        }
    }
    let Value::Map(fields) = &mut svc.value else {
        return;
    };
    for (k, v) in fields.iter_mut() {
        let r = match k.name.as_str() {
            "environment" | "labels" | "annotations" | "sysctls" => key_values(v),
            "ports" => ports(v),
            "expose" => strings(v, true),
            "volumes" => volumes(v),
            "depends_on" => depends_on(v),
            "networks" => networks(v),
            "command" | "entrypoint" => command(v),
            "healthcheck" => healthcheck(v),
            "env_file" => env_file(v),
            "tmpfs" | "dns" | "dns_search" | "cap_add" | "cap_drop" | "profiles" | "links"
            | "external_links" | "extra_hosts" | "security_opt" | "volumes_from" | "devices"
            | "group_add" | "dns_opt" => strings(v, true),
            "secrets" | "configs" => file_refs(v),
            "build" => build(v),
            "extends" => extends(v),
            "deploy" => deploy(v),
            _ => Ok(()),
        };
        if let Err(e) = r {
            errors.push(e);
        }
    }
}

/// A list of `KEY=VALUE` / `KEY` strings or a mapping → a mapping of strings (or null).
pub fn key_values(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    let out = match &v.value {
        Value::Null => Vec::new(),
        Value::Seq(list) => {
            let mut out: Vec<(berth_yaml::Key, Node)> = Vec::new();
            for item in list {
                let Some(t) = text(item) else {
                    return Err(err(item.pos, "must be a string"));
                };
                let (k, val) = match t.split_once('=') {
                    Some((k, val)) => (k.to_owned(), str_node(val, item.pos)),
                    None => (t.clone(), Node::new(Value::Null, item.pos)),
                };
                out.retain(|(x, _)| x.name != k);
                out.push((key(k, item.pos), val));
            }
            out
        }
        Value::Map(e) => e
            .iter()
            .map(|(k, val)| {
                let val = match &val.value {
                    Value::Null => Node::new(Value::Null, val.pos),
                    _ => match text(val) {
                        Some(t) => str_node(t, val.pos),
                        None => {
                            return Err(err(val.pos, "must be a string, number, boolean or null"));
                        }
                    },
                };
                Ok((k.clone(), val))
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(err(
                pos,
                format!("must be a mapping or a list, found {}", other.type_name()),
            ));
        }
    };
    *v = map(out, pos);
    Ok(())
}

/// A string or a list of scalars → a list of strings.
fn strings(v: &mut Node, allow_scalar: bool) -> Result<(), CanonError> {
    let pos = v.pos;
    let out = match &v.value {
        Value::Null => Vec::new(),
        Value::Seq(list) => list
            .iter()
            .map(|i| {
                text(i)
                    .map(|t| str_node(t, i.pos))
                    .ok_or_else(|| err(i.pos, "must be a string"))
            })
            .collect::<Result<_, _>>()?,
        _ if allow_scalar && text(v).is_some() => vec![str_node(text(v).unwrap(), pos)],
        other => {
            return Err(err(
                pos,
                format!("must be a list, found {}", other.type_name()),
            ));
        }
    };
    *v = seq(out, pos);
    Ok(())
}

fn ports(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    let mut out = Vec::new();
    for item in items(v) {
        match &item.value {
            Value::Map(_) => {
                let mut p = item.clone();
                if let Some(t) = p.get("target") {
                    let n = text(t)
                        .and_then(|s| s.parse::<i64>().ok())
                        .ok_or_else(|| err(t.pos, "invalid target port"))?;
                    let tp = t.pos;
                    set(&mut p, "target", int(n, tp));
                } else {
                    return Err(err(item.pos, "a port needs `target`"));
                }
                if let Some(pb) = p.get("published").cloned() {
                    match text(&pb) {
                        Some(s) if !s.is_empty() => set(&mut p, "published", str_node(s, pb.pos)),
                        _ => {
                            remove(&mut p, "published");
                        }
                    }
                }
                if p.get("protocol").is_none() {
                    set(&mut p, "protocol", str_node("tcp", item.pos));
                }
                if p.get("mode").is_none() {
                    set(&mut p, "mode", str_node("ingress", item.pos));
                }
                out.push(p);
            }
            _ => {
                let Some(spec) = text(item) else {
                    return Err(err(item.pos, "a port must be a string, number or mapping"));
                };
                out.extend(short_port(&spec, item.pos)?);
            }
        }
    }
    *v = seq(out, pos);
    Ok(())
}

fn range(s: &str) -> Option<(u32, u32)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b && b <= 65535).then_some((a, b))
        }
        None => {
            let a: u32 = s.parse().ok()?;
            (a <= 65535).then_some((a, a))
        }
    }
}

/// `[ip:][host:]container[/proto]`, as docker's `nat.ParsePortSpec` splits it.
pub fn short_port(spec: &str, pos: Pos) -> Result<Vec<Node>, CanonError> {
    let (addr, proto) = match spec.rsplit_once('/') {
        Some((a, p)) => (a, p.to_owned()),
        None => (spec, "tcp".to_owned()),
    };
    let (ip, host, container) = if let Some(rest) = addr.strip_prefix('[') {
        let (ip, rest) = rest
            .split_once(']')
            .ok_or_else(|| err(pos, format!("invalid port {spec:?}")))?;
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        let (h, c) = rest.split_once(':').unwrap_or(("", rest));
        (ip.to_owned(), h.to_owned(), c.to_owned())
    } else {
        let parts: Vec<&str> = addr.split(':').collect();
        let n = parts.len();
        match n {
            1 => (String::new(), String::new(), parts[0].to_owned()),
            2 => (String::new(), parts[0].to_owned(), parts[1].to_owned()),
            _ => (
                parts[..n - 2].join(":"),
                parts[n - 2].to_owned(),
                parts[n - 1].to_owned(),
            ),
        }
    };
    let Some((c0, c1)) = range(&container) else {
        return Err(err(pos, format!("invalid containerPort: {container}")));
    };
    let hostr = if host.is_empty() {
        None
    } else {
        Some(range(&host).ok_or_else(|| err(pos, format!("invalid hostPort: {host}")))?)
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(err(pos, format!("invalid proto: {proto}")));
    }
    let mk = |target: u32, published: Option<String>| {
        let mut e = vec![(key("mode", pos), str_node("ingress", pos))];
        if !ip.is_empty() {
            e.push((key("host_ip", pos), str_node(ip.clone(), pos)));
        }
        e.push((key("target", pos), int(target as i64, pos)));
        if let Some(p) = published {
            e.push((key("published", pos), str_node(p, pos)));
        }
        e.push((key("protocol", pos), str_node(proto.clone(), pos)));
        map(e, pos)
    };
    let mut out = Vec::new();
    match hostr {
        None => (c0..=c1).for_each(|c| out.push(mk(c, None))),
        Some((h0, h1)) if c0 == c1 => {
            let p = if h0 == h1 {
                h0.to_string()
            } else {
                format!("{h0}-{h1}")
            };
            out.push(mk(c0, Some(p)));
        }
        Some((h0, h1)) => {
            if h1 - h0 != c1 - c0 {
                return Err(err(
                    pos,
                    format!(
                        "invalid ranges specified for container and host Ports: {container} and {host}"
                    ),
                ));
            }
            (0..=(c1 - c0)).for_each(|i| out.push(mk(c0 + i, Some((h0 + i).to_string()))));
        }
    }
    Ok(out)
}

fn is_bind_source(s: &str) -> bool {
    s.starts_with('.')
        || s.starts_with('/')
        || s.starts_with('~')
        || s.starts_with('\\')
        || (s.len() >= 2 && s.as_bytes()[1] == b':' && s.as_bytes()[0].is_ascii_alphabetic())
}

/// Splits `src:dst:mode`, leaving Windows drive letters (`C:\x`) whole.
fn split_volume(spec: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let b: Vec<char> = spec.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == ':' {
            let drive = cur.len() == 1
                && cur.chars().all(|x| x.is_ascii_alphabetic())
                && matches!(b.get(i + 1), Some('\\') | Some('/'));
            if !drive {
                parts.push(std::mem::take(&mut cur));
                i += 1;
                continue;
            }
        }
        cur.push(c);
        i += 1;
    }
    parts.push(cur);
    parts
}

pub fn short_volume(spec: &str, pos: Pos) -> Result<Node, CanonError> {
    let parts = split_volume(spec);
    let (src, target, mode) = match parts.len() {
        1 => (None, parts[0].clone(), None),
        2 => (Some(parts[0].clone()), parts[1].clone(), None),
        3 => (
            Some(parts[0].clone()),
            parts[1].clone(),
            Some(parts[2].clone()),
        ),
        _ => return Err(err(pos, format!("invalid spec: {spec}: too many colons"))),
    };
    if target.is_empty() {
        return Err(err(
            pos,
            format!("invalid spec: {spec}: empty section between colons"),
        ));
    }
    let kind = match &src {
        None => "volume",
        Some(s) if is_bind_source(s) => "bind",
        Some(_) => "volume",
    };
    let mut e = vec![(key("type", pos), str_node(kind, pos))];
    if let Some(s) = &src {
        e.push((key("source", pos), str_node(s.clone(), pos)));
    }
    e.push((key("target", pos), str_node(clean_target(&target), pos)));
    let mut bind = Vec::new();
    let mut vol = Vec::new();
    for m in mode.iter().flat_map(|m| m.split(',')) {
        match m {
            "ro" => e.push((key("read_only", pos), boolean(true, pos))),
            "rw" | "" => {}
            "z" | "Z" => bind.push((key("selinux", pos), str_node(m, pos))),
            "nocopy" => vol.push((key("nocopy", pos), boolean(true, pos))),
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                bind.push((key("propagation", pos), str_node(m, pos)))
            }
            "consistent" | "cached" | "delegated" => {
                e.push((key("consistency", pos), str_node(m, pos)))
            }
            other => {
                return Err(err(
                    pos,
                    format!("invalid spec: {spec}: unknown option {other:?}"),
                ));
            }
        }
    }
    if kind == "bind" {
        bind.push((key("create_host_path", pos), boolean(true, pos)));
        e.push((key("bind", pos), map(bind, pos)));
    } else if src.is_some() || !vol.is_empty() {
        e.push((key("volume", pos), map(vol, pos)));
    }
    Ok(map(e, pos))
}

/// Container paths as compose-go cleans them (`/var/www/html/` → `/var/www/html`).
fn clean_target(t: &str) -> String {
    if t.len() > 1 && t.starts_with('/') {
        let trimmed = t.trim_end_matches('/');
        if trimmed.is_empty() {
            "/".into()
        } else {
            trimmed.to_owned()
        }
    } else {
        t.to_owned()
    }
}

fn volumes(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    let mut out = Vec::new();
    for item in items(v) {
        match &item.value {
            Value::Map(_) => {
                if item.get("target").is_none()
                    && item.get("type").and_then(text).as_deref() != Some("npipe")
                {
                    return Err(err(item.pos, "a volume needs `target`"));
                }
                let mut item = item.clone();
                if let Some(t) = item.get("target").and_then(text) {
                    let tp = item.get("target").unwrap().pos;
                    set(&mut item, "target", str_node(clean_target(&t), tp));
                }
                out.push(item)
            }
            Value::Str(s) => out.push(short_volume(s, item.pos)?),
            other => {
                return Err(err(
                    item.pos,
                    format!(
                        "a volume must be a string or mapping, found {}",
                        other.type_name()
                    ),
                ));
            }
        }
    }
    *v = seq(out, pos);
    Ok(())
}

fn depends_on(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    let mut out: Vec<(berth_yaml::Key, Node)> = Vec::new();
    let default = |p: Pos| {
        map(
            vec![
                (key("condition", p), str_node("service_started", p)),
                (key("required", p), boolean(true, p)),
            ],
            p,
        )
    };
    match &v.value {
        Value::Seq(list) => {
            for i in list {
                let name = text(i).ok_or_else(|| err(i.pos, "must be a service name"))?;
                out.push((key(name, i.pos), default(i.pos)));
            }
        }
        Value::Map(e) => {
            for (k, d) in e {
                let mut d = match &d.value {
                    Value::Map(_) => d.clone(),
                    Value::Null => map(Vec::new(), k.pos),
                    _ => return Err(err(d.pos, "must be a mapping with `condition`")),
                };
                if d.get("condition").is_none() {
                    set(&mut d, "condition", str_node("service_started", k.pos));
                }
                if d.get("required").is_none() {
                    set(&mut d, "required", boolean(true, k.pos));
                }
                out.push((k.clone(), d));
            }
        }
        Value::Null => {}
        other => {
            return Err(err(
                pos,
                format!("must be a list or mapping, found {}", other.type_name()),
            ));
        }
    }
    *v = map(out, pos);
    Ok(())
}

fn networks(v: &mut Node) -> Result<(), CanonError> {
    if let Value::Seq(list) = &v.value {
        let e = list
            .iter()
            .filter_map(|i| text(i).map(|t| (key(t, i.pos), Node::new(Value::Null, i.pos))))
            .collect();
        *v = map(e, v.pos);
    }
    Ok(())
}

/// POSIX shell word splitting, as compose-go splits a string `command`.
pub fn shell_split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated quote in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c)
                            }
                            None => return Err(format!("unterminated quote in {s:?}")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated quote in {s:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => cur.push(c),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c)
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Quotes a word for `sh` when it needs it.
pub fn shell_quote(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

fn command(v: &mut Node) -> Result<(), CanonError> {
    match &v.value {
        Value::Null => Ok(()),
        Value::Seq(_) => strings(v, false),
        _ => {
            let t = text(v).unwrap_or_default();
            let words = shell_split(&t).map_err(|m| err(v.pos, m))?;
            let pos = v.pos;
            *v = seq(words.into_iter().map(|w| str_node(w, pos)).collect(), pos);
            Ok(())
        }
    }
}

fn healthcheck(v: &mut Node) -> Result<(), CanonError> {
    if let Some(t) = super::tree::get_mut(v, "test") {
        match &t.value {
            Value::Seq(_) => strings(t, false)?,
            Value::Str(s) => {
                let pos = t.pos;
                let s = s.clone();
                *t = seq(vec![str_node("CMD-SHELL", pos), str_node(s, pos)], pos);
            }
            _ => return Err(err(t.pos, "healthcheck.test must be a string or a list")),
        }
    }
    Ok(())
}

fn env_file(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    let list: Vec<Node> = match &v.value {
        Value::Seq(l) => l.clone(),
        Value::Null => Vec::new(),
        _ => vec![v.clone()],
    };
    let mut out = Vec::new();
    for i in list {
        let (path, required, ppos) = match &i.value {
            Value::Map(_) => {
                let p = i
                    .get("path")
                    .ok_or_else(|| err(i.pos, "env_file needs `path`"))?;
                let req = match i.get("required").map(|r| &r.value) {
                    Some(Value::Bool(b)) => *b,
                    Some(Value::Str(s)) => s != "false",
                    _ => true,
                };
                (text(p).unwrap_or_default(), req, p.pos)
            }
            _ => (
                text(&i).ok_or_else(|| err(i.pos, "env_file must be a path"))?,
                true,
                i.pos,
            ),
        };
        out.push(map(
            vec![
                (key("path", ppos), str_node(path, ppos)),
                (key("required", ppos), boolean(required, ppos)),
            ],
            i.pos,
        ));
    }
    *v = seq(out, pos);
    Ok(())
}

fn file_refs(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    let mut out = Vec::new();
    for i in items(v) {
        match &i.value {
            Value::Map(_) => out.push(i.clone()),
            _ => {
                let t = text(i).ok_or_else(|| err(i.pos, "must be a name or a mapping"))?;
                out.push(map(vec![(key("source", i.pos), str_node(t, i.pos))], i.pos));
            }
        }
    }
    *v = seq(out, pos);
    Ok(())
}

fn build(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    if let Some(t) = text(v) {
        *v = map(vec![(key("context", pos), str_node(t, pos))], pos);
    }
    if let Some(args) = super::tree::get_mut(v, "args") {
        key_values(args)?;
    }
    if let Some(l) = super::tree::get_mut(v, "labels") {
        key_values(l)?;
    }
    Ok(())
}

fn extends(v: &mut Node) -> Result<(), CanonError> {
    let pos = v.pos;
    if let Some(t) = text(v) {
        *v = map(vec![(key("service", pos), str_node(t, pos))], pos);
    }
    if v.get("service").is_none() {
        return Err(err(pos, "extends needs `service`"));
    }
    Ok(())
}

fn deploy(v: &mut Node) -> Result<(), CanonError> {
    if let Some(l) = super::tree::get_mut(v, "labels") {
        key_values(l)?;
    }
    Ok(())
}

/// Entries of a mapping node as (name, node).
pub fn named(node: &Node) -> impl Iterator<Item = (&str, &Node)> {
    entries(node).iter().map(|(k, v)| (k.name.as_str(), v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pos {
        Pos::default()
    }

    fn port_json(s: &str) -> serde_json::Value {
        serde_json::Value::Array(
            short_port(s, p())
                .unwrap()
                .iter()
                .map(Node::to_json)
                .collect(),
        )
    }

    // Expected objects are what `docker compose config` printed for these ports.
    #[test]
    fn short_ports_like_docker_compose() {
        let j = port_json("8000-8001:9000-9001");
        assert_eq!(j[0]["target"], 9000);
        assert_eq!(j[1]["published"], "8001");
        let j = port_json("[::1]:80:80/udp");
        assert_eq!(j[0]["host_ip"], "::1");
        assert_eq!(j[0]["protocol"], "udp");
        let j = port_json("127.0.0.1::53");
        assert_eq!(j[0]["host_ip"], "127.0.0.1");
        assert!(j[0].get("published").is_none());
        assert_eq!(port_json("6379")[0]["target"], 6379);
        assert!(
            short_port("abc", p())
                .unwrap_err()
                .message
                .contains("invalid containerPort: abc")
        );
    }

    #[test]
    fn short_volumes_like_docker_compose() {
        let v = short_volume("./a:/a:ro", p()).unwrap().to_json();
        assert_eq!(v["type"], "bind");
        assert_eq!(v["read_only"], true);
        let v = short_volume("data:/d:nocopy", p()).unwrap().to_json();
        assert_eq!(v["type"], "volume");
        assert_eq!(v["volume"]["nocopy"], true);
        let v = short_volume("/x", p()).unwrap().to_json();
        assert_eq!(v["type"], "volume");
        assert_eq!(v["target"], "/x");
        let v = short_volume("C:\\data:/data", p()).unwrap().to_json();
        assert_eq!(v["source"], "C:\\data");
    }

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(
            shell_split(r#"sh -c 'echo "hi there"'"#).unwrap(),
            ["sh", "-c", "echo \"hi there\""]
        );
        assert_eq!(
            shell_split(r#"server --console-address ":9001" /data"#).unwrap(),
            ["server", "--console-address", ":9001", "/data"]
        );
        assert!(shell_split("a 'b").is_err());
    }
}
