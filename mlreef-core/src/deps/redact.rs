//! Credentials out of what we show: installers print index URLs, with their user part, and the
//! values the requirements' `${VAR}` references expanded to.

use std::collections::BTreeMap;

/// Secret values shorter than this are not masked: replacing every `1` or `ab` in a message
/// would make it unreadable, and such values are not credentials.
const MIN_SECRET_LEN: usize = 4;

/// `text` with the user part of every URL (`https://user:token@host` -> `https://****@host`)
/// and every value in `secrets` replaced by `****`.
///
/// ```
/// let masked = mlreef_core::deps::mask("from https://me:s3cret@pypi.example/simple", &[]);
/// assert_eq!(masked, "from https://****@pypi.example/simple");
/// assert_eq!(mlreef_core::deps::mask("token abcd1234 refused", &["abcd1234"]), "token **** refused");
/// ```
#[must_use]
pub fn mask(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    let mut secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    // The longest first, so that a secret containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        out = out.replace(secret, "****");
    }
    mask_userinfo(&out)
}

fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '<' | '>' | '`' | ')' | ',')
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(user_end) => {
                out.push_str("****");
                out.push_str(&authority[user_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The names of the `${VAR}` references in `text`.
pub(super) fn references(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find('}') {
            let name = &rest[..end];
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                names.push(name);
            }
            rest = &rest[end..];
        }
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// The values the `${VAR}` references in `texts` stand for: from `env`, else the process
/// environment the installer inherits.
pub(super) fn secrets(texts: &[&str], env: &BTreeMap<String, String>) -> Vec<String> {
    let mut values = Vec::new();
    for text in texts {
        for name in references(text) {
            if let Some(value) = env.get(name).cloned().or_else(|| std::env::var(name).ok()) {
                values.push(value);
            }
        }
    }
    // Whatever the caller handed us for the installer is secret too, referenced or not.
    values.extend(env.values().cloned());
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_parts_and_values_are_masked() {
        assert_eq!(
            mask(
                "GET https://user:p%40ss@host:8443/simple/numpy/ failed",
                &[]
            ),
            "GET https://****@host:8443/simple/numpy/ failed"
        );
        assert_eq!(
            mask("`https://tok@h/x`, http://h/y", &[]),
            "`https://****@h/x`, http://h/y"
        );
        assert_eq!(mask("no url here", &["ab"]), "no url here");
        assert_eq!(
            mask("key=abcdef and abcdefgh", &["abcdef", "abcdefgh"]),
            "key=**** and ****"
        );
        assert_eq!(
            references("--index-url https://${USER}:${TOKEN}@h/ ${} $X"),
            ["TOKEN", "USER"]
        );
        let env = BTreeMap::from([("TOKEN".to_owned(), "t0k3n-value".to_owned())]);
        assert!(secrets(&["${TOKEN}"], &env).contains(&"t0k3n-value".to_owned()));
    }
}
