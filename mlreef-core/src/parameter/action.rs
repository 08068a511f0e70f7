//! argparse's vocabulary for one argument, typed: the action, `nargs`, and what they make of
//! the words of one occurrence.
//!
//! Both serialize to the strings of the JSON contract (`"store_true"`, `"parsers"`, a custom
//! class's name; `"?"`, `"..."` or an integer for `nargs`), so typing them changes no output.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What argparse does with an argument's occurrences: one of its built-in actions, or a
/// custom `argparse.Action` subclass.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Action {
    /// `store` (argparse's default).
    #[default]
    Store,
    StoreConst,
    StoreTrue,
    StoreFalse,
    Append,
    AppendConst,
    Count,
    Extend,
    /// `argparse.BooleanOptionalAction`: `--x` and `--no-x`.
    BooleanOptional,
    Help,
    Version,
    /// The sub-parsers action that `add_subparsers` adds.
    Parsers,
    /// A custom action, by its class name (or, when the extractor could not name it, the
    /// source text of the `action=` argument).
    Custom(String),
}

impl Action {
    /// The name in the JSON contract (`store_true`, `boolean_optional`, the class name).
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Action::Store => "store",
            Action::StoreConst => "store_const",
            Action::StoreTrue => "store_true",
            Action::StoreFalse => "store_false",
            Action::Append => "append",
            Action::AppendConst => "append_const",
            Action::Count => "count",
            Action::Extend => "extend",
            Action::BooleanOptional => "boolean_optional",
            Action::Help => "help",
            Action::Version => "version",
            Action::Parsers => "parsers",
            Action::Custom(name) => name,
        }
    }

    /// The action a contract name stands for; any other name is a custom class.
    #[must_use]
    pub fn from_name(name: &str) -> Action {
        match name {
            "store" => Action::Store,
            "store_const" => Action::StoreConst,
            "store_true" => Action::StoreTrue,
            "store_false" => Action::StoreFalse,
            "append" => Action::Append,
            "append_const" => Action::AppendConst,
            "count" => Action::Count,
            "extend" => Action::Extend,
            "boolean_optional" => Action::BooleanOptional,
            "help" => Action::Help,
            "version" => Action::Version,
            "parsers" => Action::Parsers,
            other => Action::Custom(other.to_owned()),
        }
    }

    /// The built-in actions that take no words: argparse fixes their `nargs` to 0.
    #[must_use]
    pub fn takes_no_words(&self) -> bool {
        matches!(
            self,
            Action::StoreConst
                | Action::StoreTrue
                | Action::StoreFalse
                | Action::AppendConst
                | Action::Count
                | Action::BooleanOptional
                | Action::Help
                | Action::Version
        )
    }

    /// The actions that print something and exit (`help`, `version`): no run sets them.
    #[must_use]
    pub fn exits(&self) -> bool {
        matches!(self, Action::Help | Action::Version)
    }

    /// The actions that add each occurrence to a copy of the default rather than replace it.
    #[must_use]
    pub fn accumulates(&self) -> bool {
        matches!(
            self,
            Action::Append | Action::AppendConst | Action::Extend | Action::Count
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<&str> for Action {
    fn from(name: &str) -> Action {
        Action::from_name(name)
    }
}

impl std::str::FromStr for Action {
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> Result<Action, Self::Err> {
        Ok(Action::from_name(name))
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Action, D::Error> {
        let name = Cow::<str>::deserialize(deserializer)?;
        Ok(Action::from_name(&name))
    }
}

impl schemars::JsonSchema for Action {
    fn schema_name() -> Cow<'static, str> {
        "Action".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "store, store_const, store_true, store_false, append, append_const, \
                            count, extend, boolean_optional, help, version, parsers, or a custom \
                            action class's name",
        })
    }
}

/// `nargs` as argparse holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Nargs {
    /// `?` (`argparse.OPTIONAL`): at most one word, held as a single value.
    Optional,
    /// `*` (`argparse.ZERO_OR_MORE`).
    ZeroOrMore,
    /// `+` (`argparse.ONE_OR_MORE`).
    OneOrMore,
    /// `...` (`argparse.REMAINDER`): every word that follows.
    Remainder,
    /// `A...` (`argparse.PARSER`): a first word, then every word that follows.
    Parser,
    /// An integer: exactly that many words, held as a list (`nargs=1` is a one-item list).
    Exactly(i64),
}

impl Nargs {
    /// The spelling of a pattern in argparse and in the JSON contract; `None` for a count.
    #[must_use]
    pub fn pattern(self) -> Option<&'static str> {
        match self {
            Nargs::Optional => Some("?"),
            Nargs::ZeroOrMore => Some("*"),
            Nargs::OneOrMore => Some("+"),
            Nargs::Remainder => Some("..."),
            Nargs::Parser => Some("A..."),
            Nargs::Exactly(_) => None,
        }
    }

    /// The pattern `text` spells (`?`, `*`, `+`, `...`, `A...`), if any.
    #[must_use]
    pub fn from_pattern(text: &str) -> Option<Nargs> {
        match text {
            "?" => Some(Nargs::Optional),
            "*" => Some(Nargs::ZeroOrMore),
            "+" => Some(Nargs::OneOrMore),
            "..." => Some(Nargs::Remainder),
            "A..." => Some(Nargs::Parser),
            _ => None,
        }
    }

    /// How many words one occurrence takes.
    #[must_use]
    pub fn arity(self) -> Arity {
        match self {
            Nargs::Optional => Arity::Optional,
            Nargs::ZeroOrMore => Arity::AtLeast(0),
            Nargs::OneOrMore => Arity::AtLeast(1),
            Nargs::Remainder => Arity::Remainder,
            Nargs::Parser => Arity::Parser,
            // argparse's pattern for a count below 1 matches no word (and hands the action []).
            Nargs::Exactly(n) => usize::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .map_or(Arity::Zero, Arity::Exactly),
        }
    }
}

impl fmt::Display for Nargs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nargs::Exactly(n) => write!(f, "{n}"),
            pattern => f.write_str(pattern.pattern().unwrap_or_default()),
        }
    }
}

impl Serialize for Nargs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nargs::Exactly(n) => serializer.serialize_i64(*n),
            pattern => serializer.serialize_str(pattern.pattern().unwrap_or_default()),
        }
    }
}

impl<'de> Deserialize<'de> for Nargs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Nargs, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written<'a> {
            Count(i64),
            #[serde(borrow)]
            Pattern(Cow<'a, str>),
        }
        match Written::deserialize(deserializer)? {
            Written::Count(n) => Ok(Nargs::Exactly(n)),
            Written::Pattern(text) => Nargs::from_pattern(&text).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid nargs `{text}`: expected an integer, `?`, `*`, `+`, `...` or `A...`"
                ))
            }),
        }
    }
}

impl schemars::JsonSchema for Nargs {
    fn schema_name() -> Cow<'static, str> {
        "Nargs".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [
                {"type": "integer"},
                {"type": "string", "enum": ["?", "*", "+", "...", "A..."]},
            ],
        })
    }
}

/// How many command-line words one occurrence of an argument takes, and whether argparse
/// hands them to the action as a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Arity {
    /// No word: the flag alone.
    Zero,
    /// One word, held as a single value (no `nargs`).
    One,
    /// At most one word, held as a single value (`?`).
    Optional,
    /// At least this many words, held as a list (`*` is 0, `+` is 1).
    AtLeast(usize),
    /// Exactly this many words (at least 1), held as a list.
    Exactly(usize),
    /// Every word that follows, options included, held as a list (`REMAINDER`).
    Remainder,
    /// A first word that is not an option, then every word that follows (`PARSER`).
    Parser,
}

impl Arity {
    /// Whether argparse gathers the words into a list (every arity but `One` and `Optional`).
    #[must_use]
    pub fn is_list(self) -> bool {
        !matches!(self, Arity::One | Arity::Optional)
    }

    /// The fewest and the most words one occurrence takes (`None`: no limit).
    #[must_use]
    pub fn words(self) -> (usize, Option<usize>) {
        match self {
            Arity::Zero => (0, Some(0)),
            Arity::One => (1, Some(1)),
            Arity::Optional => (0, Some(1)),
            Arity::AtLeast(n) => (n, None),
            Arity::Exactly(n) => (n, Some(n)),
            Arity::Remainder => (0, None),
            Arity::Parser => (1, None),
        }
    }

    /// Whether the number of words varies, so that an option with this arity takes plain
    /// words written after it.
    #[must_use]
    pub fn is_variable(self) -> bool {
        matches!(
            self,
            Arity::Optional | Arity::AtLeast(_) | Arity::Remainder | Arity::Parser
        )
    }

    /// Whether the words may look like options (`REMAINDER`, and `PARSER` after its first).
    #[must_use]
    pub fn takes_options(self) -> bool {
        matches!(self, Arity::Remainder | Arity::Parser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_keep_their_contract_names() {
        for name in [
            "store",
            "store_const",
            "store_true",
            "store_false",
            "append",
            "append_const",
            "count",
            "extend",
            "boolean_optional",
            "help",
            "version",
            "parsers",
            "KeyValueAction",
        ] {
            let action = Action::from_name(name);
            assert_eq!(action.to_string(), name);
            let json = serde_json::to_value(&action).unwrap();
            assert_eq!(json, serde_json::json!(name));
            assert_eq!(serde_json::from_value::<Action>(json).unwrap(), action);
        }
        assert_eq!(
            Action::from_name("DictAction"),
            Action::Custom("DictAction".into())
        );
    }

    #[test]
    fn nargs_keep_their_contract_spelling() {
        for (text, nargs) in [
            ("\"?\"", Nargs::Optional),
            ("\"*\"", Nargs::ZeroOrMore),
            ("\"+\"", Nargs::OneOrMore),
            ("\"...\"", Nargs::Remainder),
            ("\"A...\"", Nargs::Parser),
            ("3", Nargs::Exactly(3)),
            ("0", Nargs::Exactly(0)),
        ] {
            assert_eq!(serde_json::from_str::<Nargs>(text).unwrap(), nargs);
            assert_eq!(serde_json::to_string(&nargs).unwrap(), text);
            assert_eq!(nargs.to_string(), text.trim_matches('"'));
        }
        assert!(serde_json::from_str::<Nargs>("\"**\"").is_err());
    }

    #[test]
    fn arities() {
        assert_eq!(Nargs::Exactly(1).arity(), Arity::Exactly(1));
        assert_eq!(Nargs::Exactly(0).arity(), Arity::Zero);
        assert_eq!(Nargs::Exactly(-2).arity(), Arity::Zero);
        assert_eq!(Nargs::OneOrMore.arity().words(), (1, None));
        assert!(Nargs::Exactly(1).arity().is_list());
        assert!(!Nargs::Optional.arity().is_list());
        assert!(Nargs::Optional.arity().is_variable());
        assert!(!Nargs::Exactly(2).arity().is_variable());
    }
}
