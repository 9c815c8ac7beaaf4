//! Connection strings as libpq reads them (`postgres://` URIs and `key=value` lists), the `PG*`
//! environment variables and the password file, and how a connection target is shown: never with
//! its password, and nothing at all of a string migsafe cannot read (a mistyped URI may hold the
//! password anywhere). <https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING>,
//! <https://www.postgresql.org/docs/15/libpq-envars.html>,
//! <https://www.postgresql.org/docs/15/libpq-pgpass.html>

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The libpq keywords migsafe passes on, each with the environment variable libpq reads when the
/// connection string does not give it.
const KEYWORDS: &[(&str, Option<&str>)] = &[
    ("host", Some("PGHOST")),
    ("hostaddr", Some("PGHOSTADDR")),
    ("port", Some("PGPORT")),
    ("dbname", Some("PGDATABASE")),
    ("user", Some("PGUSER")),
    ("password", Some("PGPASSWORD")),
    ("passfile", Some("PGPASSFILE")),
    ("options", Some("PGOPTIONS")),
    ("application_name", Some("PGAPPNAME")),
    ("fallback_application_name", None),
    ("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    ("sslmode", Some("PGSSLMODE")),
    ("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
    ("channel_binding", Some("PGCHANNELBINDING")),
    ("load_balance_hosts", Some("PGLOADBALANCEHOSTS")),
    ("client_encoding", Some("PGCLIENTENCODING")),
    ("keepalives", None),
    ("keepalives_idle", None),
    ("keepalives_interval", None),
    ("keepalives_count", None),
    ("tcp_user_timeout", None),
];

/// libpq keywords for what migsafe's connection cannot do (TLS certificates, GSSAPI, service
/// files, replication): named in the error, their values never shown.
const UNSUPPORTED: &[&str] = &[
    "service",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "sslnegotiation",
    "sslcertmode",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requirepeer",
    "gssencmode",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "replication",
    "require_auth",
];

/// What the process environment gives a connection: variables and the home directory.
pub(crate) struct Env<'a> {
    /// An environment variable's value.
    pub var: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    /// The real process environment.
    pub(crate) fn process() -> Env<'static> {
        Env {
            var: &|name| std::env::var(name).ok().filter(|v| !v.is_empty()),
        }
    }
}

/// Where a connection goes, resolved as libpq resolves it: the connection string first, then the
/// `PG*` variables, then libpq's defaults, and the password file last.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub hosts: Vec<String>,
    pub hostaddrs: Vec<IpAddr>,
    pub ports: Vec<u16>,
    pub user: String,
    pub dbname: String,
    pub password: Option<String>,
    /// Every other keyword, as given.
    pub other: Vec<(String, String)>,
}

/// Why a connection string cannot be used. The text names no part of the string but libpq's own
/// keyword names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unreadable(pub String);

fn unreadable(why: impl Into<String>) -> Unreadable {
    Unreadable(why.into())
}

/// The keyword/value pairs of a connection string (later ones win, as in libpq).
pub(crate) fn parse(conninfo: &str) -> Result<Vec<(String, String)>, Unreadable> {
    let uri = ["postgresql://", "postgres://"]
        .iter()
        .find_map(|p| conninfo.strip_prefix(p));
    let pairs = match uri {
        Some(rest) => parse_uri(rest)?,
        None => parse_keywords(conninfo)?,
    };
    for (k, v) in &pairs {
        check_keyword(k, v)?;
    }
    Ok(pairs)
}

fn check_keyword(k: &str, v: &str) -> Result<(), Unreadable> {
    if UNSUPPORTED.contains(&k) {
        return Err(unreadable(format!(
            "the connection option `{k}` is not supported by migsafe (it connects without TLS client certificates, GSSAPI or service files)"
        )));
    }
    if !KEYWORDS.iter().any(|(name, _)| *name == k) {
        return Err(unreadable(
            "the connection string has an option libpq does not know",
        ));
    }
    if k == "sslmode" && !matches!(v, "disable" | "allow" | "prefer") {
        return Err(unreadable(
            "sslmode asks for TLS, which migsafe's connection does not do (use sslmode=disable or prefer, or a tunnel)",
        ));
    }
    Ok(())
}

/// `key = value` pairs: values may be single-quoted, and a backslash escapes the next character.
fn parse_keywords(s: &str) -> Result<Vec<(String, String)>, Unreadable> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(unreadable(
                "the connection string is neither a postgres:// URI nor a list of key=value pairs",
            ));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => {
                        return Err(unreadable(
                            "a quoted value in the connection string is not closed",
                        ));
                    }
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

/// `[user[:password]@][host[:port][,…]][/dbname][?key=value&…]`, percent-decoded.
fn parse_uri(rest: &str) -> Result<Vec<(String, String)>, Unreadable> {
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let mut out = Vec::new();
    // libpq takes what comes before the first '@' (ahead of any '/') as the user part.
    let at = main
        .find(['@', '/'])
        .filter(|&i| main[i..].starts_with('@'));
    let hostpart = match at {
        Some(i) => {
            let userinfo = &main[..i];
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                out.push(("user".to_string(), decode(user)?));
            }
            if let Some(p) = password {
                out.push(("password".to_string(), decode(p)?));
            }
            &main[i + 1..]
        }
        None => main,
    };
    let (hosts, dbname) = match hostpart.split_once('/') {
        Some((h, d)) => (h, Some(d)),
        None => (hostpart, None),
    };
    if !hosts.is_empty() {
        let (names, ports) = uri_hosts(hosts)?;
        if names.iter().any(|h| !h.is_empty()) {
            out.push(("host".to_string(), names.join(",")));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            out.push(("port".to_string(), ports.join(",")));
        }
    }
    if let Some(d) = dbname.filter(|d| !d.is_empty()) {
        out.push(("dbname".to_string(), decode(d)?));
    }
    for param in query.into_iter().flat_map(|q| q.split('&')) {
        let Some((k, v)) = param.split_once('=') else {
            return Err(unreadable(
                "a parameter of the connection URI has no `=` (the form is ?key=value&key=value)",
            ));
        };
        let k = decode(k)?;
        // libpq's alias of `sslmode=require`.
        let (k, v) = match (k.as_str(), decode(v)?) {
            ("ssl", v) if v == "true" => ("sslmode".to_string(), "require".to_string()),
            (_, v) => (k, v),
        };
        out.push((k, v));
    }
    Ok(out)
}

/// The hosts and ports of a URI's host part: `h1:5432,[::1]:5433,h3`.
fn uri_hosts(spec: &str) -> Result<(Vec<String>, Vec<String>), Unreadable> {
    let mut names = Vec::new();
    let mut ports = Vec::new();
    for one in spec.split(',') {
        let (name, port) = if let Some(v6) = one.strip_prefix('[') {
            let Some((addr, after)) = v6.split_once(']') else {
                return Err(unreadable(
                    "an IPv6 host of the connection URI misses its `]`",
                ));
            };
            (addr.to_string(), after.strip_prefix(':').unwrap_or(after))
        } else {
            match one.rsplit_once(':') {
                Some((n, p)) => (decode(n)?, p),
                None => (decode(one)?, ""),
            }
        };
        if !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(unreadable("a port of the connection URI is not a number"));
        }
        names.push(name);
        ports.push(port.to_string());
    }
    Ok((names, ports))
}

fn decode(s: &str) -> Result<String, Unreadable> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(unreadable(
                    "the connection URI has a `%` that is not followed by two hex digits",
                ));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| unreadable("the connection URI decodes to bytes that are not UTF-8"))
}

/// Resolves a connection string with the environment, as libpq does.
pub(crate) fn resolve(conninfo: &str, env: &Env<'_>) -> Result<Target, Unreadable> {
    let pairs = parse(conninfo)?;
    let get = |k: &str| -> Option<String> {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                let var = KEYWORDS
                    .iter()
                    .find(|(n, _)| *n == k)
                    .and_then(|(_, v)| *v)?;
                (env.var)(var)
            })
    };
    for k in ["sslmode", "client_encoding"] {
        if let Some(v) = get(k) {
            check_keyword(k, &v)?;
        }
    }
    if get("client_encoding")
        .is_some_and(|v| !v.eq_ignore_ascii_case("utf8") && !v.eq_ignore_ascii_case("utf-8"))
    {
        return Err(unreadable("client_encoding must be UTF8 for migsafe"));
    }
    let hostaddrs = list(get("hostaddr").as_deref())
        .iter()
        .map(|a| {
            a.parse::<IpAddr>()
                .map_err(|_| unreadable("hostaddr is not an IP address"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut hosts = list(get("host").as_deref());
    if hosts.is_empty() && hostaddrs.is_empty() {
        hosts.push(default_socket_dir(get("port").as_deref()));
    }
    for h in &hosts {
        if !h.starts_with('/')
            && !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c))
        {
            return Err(unreadable(
                "a host of the connection string is not a host name, an IP address or a socket directory",
            ));
        }
    }
    let ports = list(get("port").as_deref())
        .iter()
        .map(|p| {
            if p.is_empty() {
                Ok(5432)
            } else {
                p.parse::<u16>()
                    .map_err(|_| unreadable("port is not a number from 1 to 65535"))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let user = match get("user") {
        Some(u) => u,
        None => os_user().ok_or_else(|| {
            unreadable(
                "no user given, and the operating system's user name is unknown (set PGUSER)",
            )
        })?,
    };
    let dbname = get("dbname").unwrap_or_else(|| user.clone());
    let mut target = Target {
        hosts,
        hostaddrs,
        ports,
        user,
        dbname,
        password: get("password"),
        other: Vec::new(),
    };
    for (k, _) in KEYWORDS.iter().filter(|(k, _)| {
        !matches!(
            *k,
            "host"
                | "hostaddr"
                | "port"
                | "user"
                | "dbname"
                | "password"
                | "passfile"
                | "sslmode"
                | "client_encoding"
        )
    }) {
        if let Some(v) = get(k) {
            target.other.push((k.to_string(), v));
        }
    }
    if target.password.is_none() {
        let file = get("passfile")
            .map(PathBuf::from)
            .or_else(|| (env.var)("HOME").map(|h| Path::new(&h).join(".pgpass")));
        if let Some(file) = file {
            target.password = password_from_file(&file, &target);
        }
    }
    Ok(target)
}

/// A comma-separated libpq list (`host=a,b`); empty when not given.
fn list(v: Option<&str>) -> Vec<String> {
    match v {
        Some(v) if !v.is_empty() => v.split(',').map(|s| s.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// libpq's default socket directory: Debian's `/var/run/postgresql`, or upstream's `/tmp` when
/// only that one has a server's socket.
fn default_socket_dir(port: Option<&str>) -> String {
    let port = port
        .and_then(|p| p.split(',').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("5432");
    let has = |dir: &str| Path::new(dir).join(format!(".s.PGSQL.{port}")).exists();
    if !has("/var/run/postgresql") && has("/tmp") {
        "/tmp".to_string()
    } else {
        "/var/run/postgresql".to_string()
    }
}

/// The name of the operating system user running migsafe (libpq's default user name).
fn os_user() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
        let passwd = std::fs::read_to_string("/etc/passwd").ok();
        let from_passwd = passwd.as_deref().and_then(|p| {
            p.lines().find_map(|l| {
                let mut f = l.split(':');
                let (name, _, id) = (f.next()?, f.next()?, f.next()?);
                (id == uid).then(|| name.to_string())
            })
        });
        if from_passwd.is_some() {
            return from_passwd;
        }
    }
    std::env::var("USER").ok().filter(|u| !u.is_empty())
}

/// The password of the first line of the password file that matches the first host, its port, the
/// database and the user (`*` matches anything; `\` escapes `:` and `\`). libpq ignores a file
/// that others may read, and so does migsafe.
fn password_from_file(path: &Path, t: &Target) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let host = match (t.hosts.first(), t.hostaddrs.first()) {
        (Some(h), _) if !h.is_empty() && !h.starts_with('/') => h.clone(),
        (None, Some(a)) => a.to_string(),
        _ => "localhost".to_string(),
    };
    let port = t.ports.first().copied().unwrap_or(5432).to_string();
    let wanted = [
        host.as_str(),
        port.as_str(),
        t.dbname.as_str(),
        t.user.as_str(),
    ];
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let fields = pgpass_fields(line.trim_end_matches('\r'));
            let [h, p, d, u, pw] = <[String; 5]>::try_from(fields).ok()?;
            let matches = [h, p, d, u]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want);
            matches.then_some(pw)
        })
}

/// The five `:`-separated fields of a password-file line, unescaped (the password is the rest of
/// the line).
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields
                .last_mut()
                .into_iter()
                .for_each(|f| f.extend(chars.next())),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().into_iter().for_each(|f| f.push(c)),
        }
    }
    fields
}

impl Target {
    /// The target as a URI without its password: `postgres://app:***@db:5432/prod`.
    pub(crate) fn display(&self) -> String {
        let user = if self.password.is_some() {
            format!("{}:***@", self.user)
        } else {
            format!("{}@", self.user)
        };
        let mut names: Vec<String> = self.hosts.iter().map(|h| h.replace('/', "%2F")).collect();
        if names.is_empty() {
            names = self.hostaddrs.iter().map(IpAddr::to_string).collect();
        }
        let hosts: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let port = self
                    .ports
                    .get(i)
                    .or(self.ports.first())
                    .copied()
                    .unwrap_or(5432);
                format!("{h}:{port}")
            })
            .collect();
        format!("postgres://{user}{}/{}", hosts.join(","), self.dbname)
    }

    /// The driver's configuration (the password goes only there).
    pub(crate) fn config(&self) -> Result<postgres::Config, Unreadable> {
        let mut c = postgres::Config::new();
        c.user(&self.user)
            .dbname(&self.dbname)
            .application_name("migsafe");
        for h in &self.hosts {
            c.host(h);
        }
        for a in &self.hostaddrs {
            c.hostaddr(*a);
        }
        for p in &self.ports {
            c.port(*p);
        }
        if let Some(p) = &self.password {
            c.password(p);
        }
        for (k, v) in &self.other {
            set_other(&mut c, k, v)?;
        }
        Ok(c)
    }
}

fn set_other(c: &mut postgres::Config, k: &str, v: &str) -> Result<(), Unreadable> {
    use postgres::config::{ChannelBinding, LoadBalanceHosts, TargetSessionAttrs};
    let seconds = |v: &str| {
        v.trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| unreadable(format!("{k} is not a whole number of seconds")))
    };
    match k {
        "options" => {
            c.options(v);
        }
        "application_name" => {
            c.application_name(v);
        }
        "connect_timeout" => {
            c.connect_timeout(seconds(v)?);
        }
        "keepalives" => {
            c.keepalives(v != "0");
        }
        "keepalives_idle" => {
            c.keepalives_idle(seconds(v)?);
        }
        "keepalives_interval" => {
            c.keepalives_interval(seconds(v)?);
        }
        "keepalives_count" => {
            c.keepalives_retries(
                v.parse()
                    .map_err(|_| unreadable("keepalives_count is not a number"))?,
            );
        }
        "tcp_user_timeout" => {
            let ms = v
                .parse()
                .map_err(|_| unreadable("tcp_user_timeout is not a number"))?;
            c.tcp_user_timeout(Duration::from_millis(ms));
        }
        "target_session_attrs" => {
            c.target_session_attrs(match v {
                "any" => TargetSessionAttrs::Any,
                "read-write" => TargetSessionAttrs::ReadWrite,
                "read-only" => TargetSessionAttrs::ReadOnly,
                _ => {
                    return Err(unreadable(
                        "target_session_attrs must be any, read-write or read-only for migsafe",
                    ));
                }
            });
        }
        "channel_binding" => {
            c.channel_binding(match v {
                "disable" => ChannelBinding::Disable,
                "prefer" => ChannelBinding::Prefer,
                "require" => ChannelBinding::Require,
                _ => {
                    return Err(unreadable(
                        "channel_binding must be disable, prefer or require",
                    ));
                }
            });
        }
        "load_balance_hosts" => {
            c.load_balance_hosts(match v {
                "disable" => LoadBalanceHosts::Disable,
                "random" => LoadBalanceHosts::Random,
                _ => return Err(unreadable("load_balance_hosts must be disable or random")),
            });
        }
        // fallback_application_name: migsafe names itself unless application_name is given.
        _ => {}
    }
    Ok(())
}

/// The connection string as migsafe would show it: `postgres://app:***@db:5432/prod`, or a
/// sentence saying it cannot be read (then nothing of it is shown). The environment is not
/// consulted.
pub fn redact(conninfo: &str) -> String {
    let none = |_: &str| None;
    match resolve(conninfo, &Env { var: &none }) {
        Ok(t) => t.display(),
        Err(_) => "(a connection string migsafe cannot read)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn resolve_with(conninfo: &str, vars: &[(&str, &str)]) -> Result<Target, Unreadable> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let var = move |k: &str| map.get(k).cloned();
        resolve(conninfo, &Env { var: &var })
    }

    fn password(conninfo: &str) -> Option<String> {
        resolve_with(conninfo, &[("PGUSER", "u")]).ok()?.password
    }

    #[test]
    fn every_password_form_is_read_and_none_is_shown() {
        let forms = [
            ("postgres://app:s3cret@db:5432/prod", "s3cret"),
            ("postgresql://app:s%40cret@db/prod", "s@cret"),
            ("postgres://app@db/prod?password=s3cret", "s3cret"),
            (
                "postgres://app@db/prod?sslmode=disable&password=s3cret",
                "s3cret",
            ),
            ("postgres://app@db/prod?pass%77ord=s3cret", "s3cret"),
            ("host=db user=app password=s3cret dbname=prod", "s3cret"),
            ("host=db user=app password = s3cret dbname=prod", "s3cret"),
            (
                "host=db user=app password ='s3 cret' dbname=prod",
                "s3 cret",
            ),
            ("host=db password='it\\'s' user=app", "it's"),
            ("host=db password=a\\ b", "a b"),
        ];
        for (form, secret) in forms {
            assert_eq!(password(form).as_deref(), Some(secret), "{form}");
            let shown = redact(form);
            assert!(
                !shown.contains(secret) && shown.contains(":***@"),
                "{form}: {shown}"
            );
        }
    }

    #[test]
    fn a_string_migsafe_cannot_read_shows_nothing_of_itself() {
        for bad in [
            "postgres//app:s3cret@db/prod",
            "postgres:/app:s3cret@db/prod",
            "postgresql:app:s3cret@db/prod",
            "http://app:s3cret@db/prod",
            "host=db password='s3cret",
            "host=db passwrd=s3cret",
            "postgres://app:s3cret@db/prod?s3cret",
            "postgres://app:s3cret@d%zzb/prod",
            "postgres://app:s3cret@db:54x2/prod",
            "postgres://app:pw@s3cret@db/prod",
            "host=db sslpassword=s3cret",
            "host=db sslmode=require password=s3cret",
        ] {
            let shown = redact(bad);
            assert!(
                !shown.contains("s3cret") && !shown.contains("app") && !shown.contains("db"),
                "{bad}: {shown}"
            );
            let err = resolve_with(bad, &[]).expect_err(bad);
            assert!(
                !err.0.contains("s3cret") && !err.0.contains("zz"),
                "{bad}: {}",
                err.0
            );
        }
    }

    #[test]
    fn environment_fills_what_the_string_leaves_out() {
        let env = [
            ("PGHOST", "envhost"),
            ("PGPORT", "6543"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpw"),
            ("PGDATABASE", "envdb"),
        ];
        let t = resolve_with("", &env).expect("env only");
        assert_eq!(
            (
                t.hosts,
                t.ports,
                t.user.as_str(),
                t.dbname.as_str(),
                t.password.as_deref()
            ),
            (
                vec!["envhost".to_string()],
                vec![6543],
                "envuser",
                "envdb",
                Some("envpw")
            )
        );
        // The string wins over the environment.
        let t = resolve_with("postgres://app:pw@db/prod", &env).expect("uri");
        assert_eq!(
            (t.user.as_str(), t.password.as_deref(), t.ports.clone()),
            ("app", Some("pw"), vec![6543])
        );
        let t = resolve_with("user=app", &[("PGUSER", "other")]).expect("kv");
        assert_eq!(t.dbname, "app");
        assert!(t.hosts[0].starts_with('/'), "{:?}", t.hosts);
    }

    #[test]
    fn uri_hosts_ports_and_sockets() {
        let t = resolve_with("postgres://u@h1:5433,[::1]:5434,h3/db", &[]).expect("multi");
        assert_eq!(t.hosts, vec!["h1", "::1", "h3"]);
        assert_eq!(t.ports, vec![5433, 5434, 5432]);
        let t = resolve_with("postgresql://u@%2Fvar%2Frun%2Fpostgresql/db", &[]).expect("socket");
        assert_eq!(t.hosts, vec!["/var/run/postgresql"]);
        assert_eq!(
            t.display(),
            "postgres://u@%2Fvar%2Frun%2Fpostgresql:5432/db"
        );
    }

    #[test]
    fn password_file_lines_match_as_libpq_matches_them() {
        let dir = std::env::temp_dir().join(format!("migsafe-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:app:nope\ndb:5432:prod:app:pw\\:1\\\\x\n*:*:*:*:fallback\n",
        )
        .expect("write");
        let passfile = file.display().to_string();
        let with = |conninfo: &str| {
            resolve_with(conninfo, &[("PGPASSFILE", &passfile)])
                .expect("resolves")
                .password
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert_eq!(
                with("host=db user=app dbname=prod"),
                None,
                "a readable file is ignored"
            );
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        assert_eq!(
            with("host=db user=app dbname=prod").as_deref(),
            Some("pw:1\\x")
        );
        assert_eq!(
            with("host=db port=5433 user=app dbname=prod").as_deref(),
            Some("fallback")
        );
        assert_eq!(
            with("host=db user=app dbname=prod password=given").as_deref(),
            Some("given")
        );
        // A socket connection matches `localhost`.
        std::fs::write(&file, "localhost:5432:prod:app:sock\n").expect("write");
        assert_eq!(
            with("host=/tmp user=app dbname=prod").as_deref(),
            Some("sock")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
