//! The options part of a requirements line, read with the rules of Python's `optparse` as pip
//! configures it: long options may be abbreviated to any unique prefix, `--opt=value` and
//! `--opt value`, short options `-ivalue` and `-i value`, arguments that are not options are
//! ignored, and the first error stops the line.

/// What an option does with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt {
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    Constraint,
    Requirement,
    Editable,
    FindLinks,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    NoRequireHashes,
    Pre,
    AllReleases,
    OnlyFinal,
    TrustedHost,
    UseFeature,
    Hash,
    ConfigSettings,
}

impl Opt {
    fn takes_value(self) -> bool {
        !matches!(
            self,
            Opt::NoIndex | Opt::PreferBinary | Opt::RequireHashes | Opt::NoRequireHashes | Opt::Pre
        )
    }
}

/// pip 26's requirement-file options, in its order.
const LONG: &[(&str, Opt)] = &[
    ("--index-url", Opt::IndexUrl),
    ("--pypi-url", Opt::IndexUrl),
    ("--extra-index-url", Opt::ExtraIndexUrl),
    ("--no-index", Opt::NoIndex),
    ("--constraint", Opt::Constraint),
    ("--requirement", Opt::Requirement),
    ("--editable", Opt::Editable),
    ("--find-links", Opt::FindLinks),
    ("--no-binary", Opt::NoBinary),
    ("--only-binary", Opt::OnlyBinary),
    ("--prefer-binary", Opt::PreferBinary),
    ("--require-hashes", Opt::RequireHashes),
    ("--no-require-hashes", Opt::NoRequireHashes),
    ("--pre", Opt::Pre),
    ("--all-releases", Opt::AllReleases),
    ("--only-final", Opt::OnlyFinal),
    ("--trusted-host", Opt::TrustedHost),
    ("--use-feature", Opt::UseFeature),
    ("--hash", Opt::Hash),
    ("--config-settings", Opt::ConfigSettings),
];

const SHORT: &[(char, Opt)] = &[
    ('i', Opt::IndexUrl),
    ('c', Opt::Constraint),
    ('r', Opt::Requirement),
    ('e', Opt::Editable),
    ('f', Opt::FindLinks),
    ('C', Opt::ConfigSettings),
];

/// The values `--use-feature` accepts in pip 26.
pub(crate) const FEATURES: &[&str] = &[
    "fast-deps",
    "inprocess-build-deps",
    "venv-isolation",
    "truststore",
    "no-binary-enable-wheel-cache",
    "build-constraint",
];

/// The hash algorithms pip accepts for `--hash`.
const STRONG_HASHES: &[&str] = &["sha256", "sha384", "sha512"];

/// One option as written, with the spelling the user used (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Given {
    pub opt: Opt,
    pub spelling: String,
    pub value: Option<String>,
}

/// Parses option tokens. The error message is optparse's (or pip's callback's) wording.
pub(crate) fn parse(tokens: &[String]) -> Result<Vec<Given>, String> {
    let mut given = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        index += 1;
        if token == "--" {
            break;
        }
        if let Some(long) = token.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (format!("--{name}"), Some(value.to_owned())),
                None => (token.clone(), None),
            };
            let opt = match_long(&name)?;
            let value = if opt.takes_value() {
                match inline {
                    Some(value) => Some(value),
                    None if index < tokens.len() => {
                        index += 1;
                        Some(tokens[index - 1].clone())
                    }
                    None => return Err(format!("{name} option requires 1 argument")),
                }
            } else if inline.is_some() {
                return Err(format!("{name} option does not take a value"));
            } else {
                None
            };
            given.push(check(Given {
                opt,
                spelling: name,
                value,
            })?);
        } else if token.len() > 1 && token.starts_with('-') {
            // Every short option pip has takes a value: the rest of the token, or the next
            // token.
            let c = token[1..].chars().next().unwrap_or('-');
            let spelling = format!("-{c}");
            let Some(&(_, opt)) = SHORT.iter().find(|(s, _)| *s == c) else {
                return Err(format!("no such option: {spelling}"));
            };
            let rest = &token[1 + c.len_utf8()..];
            let value = if !rest.is_empty() {
                rest.to_owned()
            } else if index < tokens.len() {
                index += 1;
                tokens[index - 1].clone()
            } else {
                return Err(format!("{spelling} option requires 1 argument"));
            };
            given.push(check(Given {
                opt,
                spelling,
                value: Some(value),
            })?);
        }
        // Anything else is a positional argument, which pip's line parser ignores.
    }
    Ok(given)
}

/// optparse's abbreviation rule: an exact name, or the one option the prefix starts.
fn match_long(name: &str) -> Result<Opt, String> {
    if let Some(&(_, opt)) = LONG.iter().find(|(n, _)| *n == name) {
        return Ok(opt);
    }
    let candidates: Vec<&(&str, Opt)> = LONG.iter().filter(|(n, _)| n.starts_with(name)).collect();
    match candidates.as_slice() {
        [] => Err(format!("no such option: {name}")),
        [(_, opt)] => Ok(*opt),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
            Err(format!("ambiguous option: {name} ({}?)", names.join(", ")))
        }
    }
}

/// The checks pip's callbacks and choice type make on a value.
fn check(given: Given) -> Result<Given, String> {
    let value = given.value.as_deref().unwrap_or("");
    let name = &given.spelling;
    match given.opt {
        Opt::Hash => {
            let Some((algorithm, _)) = value.split_once(':') else {
                return Err(format!(
                    "Arguments to {name} must be a hash name followed by a value, like \
                     --hash=sha256:abcde..."
                ));
            };
            if !STRONG_HASHES.contains(&algorithm) {
                return Err(format!(
                    "Allowed hash algorithms for {name} are {}.",
                    STRONG_HASHES.join(", ")
                ));
            }
        }
        Opt::ConfigSettings if !value.contains('=') => {
            return Err(format!("Arguments to {name} must be of the form KEY=VAL"));
        }
        Opt::UseFeature if !FEATURES.contains(&value) => {
            let choices: Vec<String> = FEATURES.iter().map(|f| format!("'{f}'")).collect();
            return Err(format!(
                "option {name}: invalid choice: '{value}' (choose from {})",
                choices.join(", ")
            ));
        }
        Opt::NoBinary | Opt::OnlyBinary | Opt::AllReleases | Opt::OnlyFinal
            if value.starts_with('-') =>
        {
            return Err(format!("{name} option requires 1 argument."));
        }
        _ => {}
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn optparse_forms() {
        let given = parse(&tokens(
            "-ihttps://a --extra-index https://b --pre junk -r x.txt",
        ))
        .unwrap();
        let opts: Vec<_> = given.iter().map(|g| (g.opt, g.value.as_deref())).collect();
        assert_eq!(
            opts,
            [
                (Opt::IndexUrl, Some("https://a")),
                (Opt::ExtraIndexUrl, Some("https://b")),
                (Opt::Pre, None),
                (Opt::Requirement, Some("x.txt")),
            ]
        );
    }

    #[test]
    fn optparse_errors() {
        assert_eq!(
            parse(&tokens("--frob")).unwrap_err(),
            "no such option: --frob"
        );
        assert_eq!(
            parse(&tokens("--index-url")).unwrap_err(),
            "--index-url option requires 1 argument"
        );
        assert_eq!(
            parse(&tokens("--pre=1")).unwrap_err(),
            "--pre option does not take a value"
        );
        assert!(
            parse(&tokens("--no"))
                .unwrap_err()
                .starts_with("ambiguous option: --no")
        );
        assert!(parse(&tokens("--hash=md5:00")).is_err());
        assert!(parse(&tokens("-C novalue")).is_err());
    }
}
