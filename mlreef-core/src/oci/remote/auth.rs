//! Registry authentication: credentials from the caller, the environment and docker's config
//! files; the challenges a registry answers with (`WWW-Authenticate: Basic realm=...` or
//! `Bearer realm=...,service=...,scope=...`); and the bearer tokens a token server gives for a
//! scope, kept until they expire.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Reads a variable (the process environment, or a caller's stand-in).
pub type Env = std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A user name and a password (or token) for a registry.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password, not even in a debug print.
        write!(f, "Credentials({}, ****)", self.username)
    }
}

/// How a registry asked to be authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header: a scheme and `key="value"` parameters.
pub(super) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params: HashMap<String, String> = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        params.insert(key, value.trim().to_owned());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.remove("realm")?,
            service: params.remove("service"),
            scope: params.remove("scope"),
        }),
        _ => None,
    }
}

/// A bearer token and when it stops being good.
#[derive(Clone)]
pub(super) struct Token {
    pub value: String,
    pub expires: Instant,
}

impl Token {
    /// A token from a token server's answer (`token` or `access_token`, `expires_in` seconds,
    /// 60 by default as the spec says); renewed a little before it expires.
    pub fn from_response(body: &[u8]) -> Option<Token> {
        let json: serde_json::Value = serde_json::from_slice(body).ok()?;
        let value = json
            .get("token")
            .or_else(|| json.get("access_token"))?
            .as_str()?
            .to_owned();
        let lifetime = json
            .get("expires_in")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(60)
            .max(10);
        Some(Token {
            value,
            expires: Instant::now() + Duration::from_secs(lifetime.saturating_sub(5)),
        })
    }

    pub fn fresh(&self) -> bool {
        Instant::now() < self.expires
    }
}

/// Base64 (the standard alphabet, with padding), for `Authorization: Basic` and docker's
/// `auths` entries.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let keep = chunk.len().saturating_sub(1);
        for i in 0..keep {
            out.push(((n >> (16 - 8 * i)) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Where credentials for a registry host come from, first found first used: the caller's,
/// `MLREEF_REGISTRY_USER`/`MLREEF_REGISTRY_PASSWORD` (for `MLREEF_REGISTRY`, or any host when
/// that is unset), GitLab CI's `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD` for `CI_REGISTRY`,
/// then docker's `config.json` (`$DOCKER_CONFIG`, else `~/.docker`) and the containers tools'
/// `$REGISTRY_AUTH_FILE`: `auths` entries, then `credHelpers` / `credsStore` through
/// `docker-credential-*` programs.
pub(super) fn find_credentials(
    registry: &str,
    given: &[(String, Credentials)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Credentials> {
    if let Some((_, c)) = given.iter().find(|(host, _)| same_host(host, registry)) {
        return Some(c.clone());
    }
    let pair = |user: &str, password: &str| {
        Some(Credentials {
            username: env(user)?,
            password: env(password)?,
        })
    };
    if let Some(c) = pair("MLREEF_REGISTRY_USER", "MLREEF_REGISTRY_PASSWORD")
        && env("MLREEF_REGISTRY").is_none_or(|host| same_host(&host, registry))
    {
        return Some(c);
    }
    if let Some(c) = pair("CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD")
        && env("CI_REGISTRY").is_some_and(|host| same_host(&host, registry))
    {
        return Some(c);
    }
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(file) = env("REGISTRY_AUTH_FILE") {
        files.push(file.into());
    }
    match env("DOCKER_CONFIG") {
        Some(dir) => files.push(Path::new(&dir).join("config.json")),
        None => {
            if let Some(home) = env("HOME") {
                files.push(Path::new(&home).join(".docker/config.json"));
            }
        }
    }
    files
        .iter()
        .find_map(|file| from_config_file(file, registry, env))
}

/// `docker.io`, `index.docker.io` and `registry-1.docker.io` are one registry, which docker's
/// config files name `https://index.docker.io/v1/`.
fn same_host(written: &str, registry: &str) -> bool {
    let normal = |host: &str| {
        let host = host
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        let host = host.split('/').next().unwrap_or(host);
        match host {
            "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_owned(),
            other => other.to_owned(),
        }
    };
    normal(written) == normal(registry)
}

fn from_config_file(
    file: &Path,
    registry: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Credentials> {
    let text = std::fs::read(file).ok()?;
    if text.len() > 1 << 20 {
        return None;
    }
    let config: serde_json::Value = serde_json::from_slice(&text).ok()?;
    if let Some(auths) = config.get("auths").and_then(|a| a.as_object())
        && let Some((_, entry)) = auths.iter().find(|(host, _)| same_host(host, registry))
    {
        if let Some(encoded) = entry.get("auth").and_then(|a| a.as_str())
            && let Some(decoded) = unbase64(encoded)
            && let Ok(decoded) = String::from_utf8(decoded)
            && let Some((username, password)) = decoded.split_once(':')
        {
            return Some(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            });
        }
        if let (Some(username), Some(password)) = (
            entry.get("username").and_then(|u| u.as_str()),
            entry.get("password").and_then(|p| p.as_str()),
        ) {
            return Some(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            });
        }
    }
    let helper = config
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| {
            h.iter()
                .find(|(host, _)| same_host(host, registry))
                .map(|(_, v)| v)
        })
        .or_else(|| config.get("credsStore"))
        .and_then(|h| h.as_str())?;
    from_helper(helper, registry, env)
}

/// Asks `docker-credential-<helper> get` for the registry's credentials (the program reads the
/// server on stdin and answers `{"Username": ..., "Secret": ...}`), waiting at most 30 s.
fn from_helper(
    helper: &str,
    registry: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Credentials> {
    use std::io::Write as _;
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let program = format!("docker-credential-{helper}");
    let mut command = std::process::Command::new(&program);
    if let Some(path) = env("PATH") {
        command.env("PATH", path);
    }
    let mut child = command
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let server = if registry == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    child.stdin.take()?.write_all(server.as_bytes()).ok()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().ok()?.is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() || out.stdout.len() > 1 << 16 {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Credentials {
        username: answer.get("Username")?.as_str()?.to_owned(),
        password: answer.get("Secret")?.as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(r#"Basic realm="registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/module:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example.com/token".into(),
                service: Some("registry.example.com".into()),
                scope: Some("repository:team/module:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn base64_both_ways() {
        for text in ["", "a", "ab", "abc", "user:pa:ss", "ünïcode:✓"] {
            let encoded = base64(text.as_bytes());
            assert_eq!(unbase64(&encoded).unwrap(), text.as_bytes(), "{text}");
        }
        assert_eq!(base64(b"user:password"), "dXNlcjpwYXNzd29yZA==");
    }

    #[test]
    fn credentials_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(
            &config,
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
                          "registry.example.com": {"username": "u", "password": "p"}}}"#,
        )
        .unwrap();
        let docker_config = dir.path().display().to_string();
        let vars: HashMap<&str, String> = [
            ("DOCKER_CONFIG", docker_config),
            ("CI_REGISTRY", "gitlab.example.com:5050".to_owned()),
            ("CI_REGISTRY_USER", "gitlab-ci-token".to_owned()),
            ("CI_REGISTRY_PASSWORD", "ci-secret".to_owned()),
        ]
        .into_iter()
        .collect();
        let env = |name: &str| vars.get(name).cloned();
        let found = |registry: &str| find_credentials(registry, &[], &env);
        assert_eq!(found("docker.io").unwrap().password, "secret");
        assert_eq!(found("registry.example.com").unwrap().username, "u");
        assert_eq!(
            found("gitlab.example.com:5050").unwrap().password,
            "ci-secret"
        );
        assert_eq!(found("elsewhere.example.com"), None);
        let given = vec![(
            "registry.example.com".to_owned(),
            Credentials {
                username: "api".into(),
                password: "from-api".into(),
            },
        )];
        assert_eq!(
            find_credentials("registry.example.com", &given, &env)
                .unwrap()
                .password,
            "from-api"
        );
        assert!(!format!("{:?}", given[0].1).contains("from-api"));
    }
}
