//! Command lines for a module's parameters.
//!
//! [`command_line`] turns the values chosen for a run into the argv (without the program) that
//! makes the script's own argparse parser hold exactly those values; [`shell_line`] quotes an
//! argv for a POSIX shell (the `script:` lines of `mlreef.yml`).
//!
//! # Values
//!
//! Values are keyed by parameter `name` (its `dest` when it has no name) and are what the
//! namespace should hold under the parameter's `dest` once argparse has parsed the argv.
//! Parameters without a value are left out of the argv, so argparse applies their defaults.
//! The shape and kind of each value are the parameter's own facts
//! ([`Parameter::shape`], [`Parameter::item_kind`]), which the JSON Schema of parameters and
//! `mlreef run-args` share.
//!
//! - `store`: a value of the schema `type` (`INTEGER` an integer, `FLOAT` a number, `BOOLEAN` a
//!   bool, `STRING` a string; the other types take any string, number or bool, and
//!   `type=json.loads` any JSON, written as JSON text). With `nargs` `*`, `+`, `N`, `...` or
//!   `A...` the value is a list whose items fit `python_type` (`int` integers, `float` numbers,
//!   `str` or no type strings). A bool is written `True` / empty (falsy) for `type=bool` and for no type,
//!   and `true` / `false` for other converters (`str2bool`). The schema type decides what is
//!   accepted; argparse converts with the script's own `type=`, so without one the script
//!   receives the text (`"5"` for an `INTEGER` inferred from `default=5`). A `True` / empty
//!   bool equal to the default is left out instead, since leaving out holds it exactly.
//! - `nargs='?'` options: `null` writes the flag alone, so argparse holds the `const` (`null`
//!   unless the script gave one), and so does a value equal to a const that is not a string
//!   (`const=True`); any other value is written after the flag.
//! - `store_true` / `store_false`: the bool the namespace holds; the flag is written for the
//!   one the action sets, the other is left out (which needs the default to be that bool).
//!   `boolean_optional`: `--x` for `true`, `--no-x` for `false`.
//! - `store_const` / `append_const`: `true` writes the flag (`store_const` also takes its
//!   `const` itself), `false` leaves it out.
//! - `count`: the count the namespace holds. argparse counts up from an integer default, so
//!   the flag is written `n - default` times.
//! - `append` / `extend`: the whole list the namespace holds. argparse adds to a copy of the
//!   default, so the list must start with a list default, and only the rest is written: one
//!   `--x v` per item for `append` (each item itself a list when `nargs` asks for several),
//!   `--x v1 v2 ...` for `extend` (one `--x=v` per item when a value starts with `-`). With a
//!   `nargs` that takes every word after it (`...`, `A...`), `append` can add one entry only.
//! - A custom action (an unknown action name) is written like `store`: `--flag value`, or the
//!   list after the flag when its `nargs` takes several (`nargs=1` too: a one-item list), or,
//!   for `nargs=0`, a switch (`true` the flag alone, `false` left out). What the action then
//!   stores is the script's business.
//! - `null` leaves a parameter out, which needs its default to be `null`; a value equal to
//!   what leaving out gives is fine for the switch-like actions above. When the default is
//!   unknown (`default_expr` set), leaving out is trusted.
//! - `version` and `help` actions never take a value.
//!
//! # The argv
//!
//! Options use their first long flag (else their first flag), in declaration order except that
//! options taking a variable number of values go first, so that a positional never follows
//! them. A single value starting with a prefix character is written `--flag=value`, and so is
//! a one-value list for `nargs` `*` / `+` (which then cannot swallow what follows). Among
//! several values of one flag, one that starts with a prefix character cannot be written
//! (argparse would read it as an option) unless it is a negative number and the parser has no
//! option that looks like one. Positionals follow, in declaration order, after `--` when one of
//! them starts with a prefix character (or when the last option takes a variable number of
//! values); `--` itself is refused as a positional value (argparse drops it), except inside a
//! `REMAINDER`. The positional values are checked against argparse's own matching (the greedy
//! regular expressions of `_match_arguments_partial`), so that `a b` for `inputs` (`+`) and
//! `labels` (`*`) is refused rather than misread.
//!
//! Sub-commands: the `parsers` parameter's value is the chosen sub-command name (nested ones
//! have their own `parsers` parameter). When it has no value (or no name: `add_subparsers()`
//! without `dest`), the sub-command is the one the other values belong to. The argv is the
//! parent's options, the parent's positionals, the sub-command name, then the sub-command's own
//! argv. A name shared by the parent and the chosen sub-command (`parents=[common]`) belongs to
//! the sub-command, since argparse copies the sub-command's namespace over the parent's; for
//! the same reason a parent's value is refused when the chosen sub-command has another
//! parameter with the same `dest`.
//!
//! Not checked (the parameter form does not record them): mutually exclusive groups,
//! `fromfile_prefix_chars`, `allow_abbrev=False`, and sub-command aliases (a value naming an
//! alias selects a sub-command with no known parameters).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::Parameter;
use crate::parameter::{Action, Arity, SwitchWay, ValueKind, ValueShape};

/// A value set that argparse would not accept, or could not end up holding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandLineError {
    /// Anything the other variants do not describe.
    #[error("{0}")]
    Invalid(String),
    /// A value for a parameter that does not exist.
    #[error("no parameter is named `{name}`{}", did_you_mean(.suggestion.as_deref()))]
    Unknown {
        name: String,
        /// The closest known name, when one is close.
        suggestion: Option<String>,
    },
    /// Several values for a parameter that takes one (`mlreef run-args --set` repeated for
    /// it), or both text and JSON for one parameter.
    #[error("`{name}` is given more than once, but it takes one value")]
    Repeated { name: String },
    /// A required parameter without a value.
    #[error("`{name}` is required")]
    Missing { name: String },
    /// A required sub-command that neither its parameter nor the other values choose.
    #[error("a sub-command is required{}: one of {}", key_hint(.key.as_deref()), quoted(.choices))]
    MissingSubcommand {
        /// The `parsers` parameter's name, when it has one.
        key: Option<String>,
        choices: Vec<String>,
    },
    /// A value of the wrong JSON type or shape.
    #[error("`{name}` takes {expected}, not `{value}`")]
    WrongType {
        name: String,
        expected: String,
        value: String,
    },
    /// A value outside the parameter's `choices`.
    #[error("`{value}` is not a choice of `{name}`: {}", quoted(.choices))]
    NotAChoice {
        name: String,
        value: String,
        choices: Vec<String>,
    },
    /// A value for a parameter of a sub-command that is not the chosen one.
    #[error("`{name}` belongs to the sub-command `{subcommand}`, {}", chosen_hint(.chosen.as_deref()))]
    NotChosen {
        name: String,
        subcommand: String,
        /// The chosen sub-command path, if any.
        chosen: Option<String>,
    },
    /// Values for two different sub-commands.
    #[error(
        "`{name}` belongs to the sub-command `{subcommand}` and `{other}` to `{other_subcommand}`: \
         a run takes one sub-command"
    )]
    MixedSubcommands {
        name: String,
        subcommand: String,
        other: String,
        other_subcommand: String,
    },
    /// A name that several parameters of one parser carry.
    #[error("`{name}` names more than one parameter of {}", parser_name(.subcommand.as_deref()))]
    Ambiguous {
        name: String,
        subcommand: Option<String>,
    },
    /// Two values for parameters that share a `dest`.
    #[error("`{name}` and `{other}` both set `{dest}`, to `{value}` and `{other_value}`")]
    Conflict {
        name: String,
        other: String,
        dest: String,
        value: String,
        other_value: String,
    },
    /// A well-typed value that no command line makes argparse hold.
    #[error("no command line makes argparse hold `{value}` for `{name}`: {reason}")]
    Unrepresentable {
        name: String,
        value: String,
        reason: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
}

fn key_hint(key: Option<&str>) -> String {
    key.map_or_else(String::new, |k| format!(" (`{k}`)"))
}

fn chosen_hint(chosen: Option<&str>) -> String {
    chosen.map_or_else(
        || "but no sub-command is chosen".to_owned(),
        |c| format!("but `{c}` is chosen"),
    )
}

fn parser_name(subcommand: Option<&str>) -> String {
    subcommand.map_or_else(
        || "the script's parser".to_owned(),
        |s| format!("the sub-command `{s}`"),
    )
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as an error message shows it: compact JSON, shortened.
fn show(value: &Value) -> String {
    shorten(value.to_string())
}

/// A value as a choice list shows it: strings as they are.
fn show_plain(value: &Value) -> String {
    match value {
        Value::String(s) => shorten(s.clone()),
        other => show(other),
    }
}

fn shorten(text: String) -> String {
    if text.chars().count() <= 80 {
        return text;
    }
    let mut short: String = text.chars().take(77).collect();
    short.push_str("...");
    short
}

/// The argv (without the program) that makes argparse hold `values`; see the module docs for
/// the rules.
pub fn command_line(
    parameters: &[Parameter],
    values: &Map<String, Value>,
) -> Result<Vec<String>, CommandLineError> {
    let plan = Plan::new(parameters, values)?;
    plan.check()?;
    plan.render(0)
}

/// `argv` as one POSIX shell string: words that need no quoting stay bare, the others are
/// single-quoted (an embedded `'` becomes `'\''`), the empty word is `''`.
#[must_use]
pub fn shell_line(argv: &[String]) -> String {
    let mut line = String::new();
    for (i, word) in argv.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        line.push_str(&shell_word(word, i == 0));
    }
    line
}

fn shell_word(word: &str, first: bool) -> Cow<'_, str> {
    let bare = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b))
        // `NAME=value` first on a line would be an assignment, not a word.
        && !(first && assignment(word));
    if bare {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// `NAME=...` with a shell variable name before the `=`.
fn assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        name.chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
    })
}

fn name_of(p: &Parameter) -> &str {
    p.key().unwrap_or("(unnamed)")
}

/// Whether the sub-command path `sub` is `path` or lies below it.
fn under(sub: Option<&str>, path: &str) -> bool {
    sub.is_some_and(|s| {
        s == path
            || s.strip_prefix(path)
                .is_some_and(|rest| rest.starts_with(' '))
    })
}

fn qualify(here: Option<&str>, name: &str) -> String {
    here.map_or_else(|| name.to_owned(), |h| format!("{h} {name}"))
}

/// JSON equality where `1` and `1.0` are the same number (as they are to Python).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                i == j
            } else {
                // Python compares the numbers exactly, and so do we.
                #[allow(clippy::float_cmp)]
                let equal = x.as_f64().zip(y.as_f64()).is_some_and(|(f, g)| f == g);
                equal
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        _ => a == b,
    }
}

/// argparse's `_negative_number_matcher` (`^-\d+$|^-\d*\.\d+$`).
fn is_negative_number(w: &str) -> bool {
    let Some(rest) = w.strip_prefix('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once('.') {
        None => digits(rest),
        Some((int, frac)) => (int.is_empty() || digits(int)) && digits(frac),
    }
}

/// A closest name, if one is close enough to be a likely typo.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    // A typo is short; comparing long names costs their lengths multiplied.
    const LONGEST: usize = 64;
    if name.len() > LONGEST {
        return None;
    }
    let norm = |s: &str| s.to_lowercase().replace('_', "-");
    let wanted = norm(name);
    let mut best: Option<(usize, &str)> = None;
    for k in known.filter(|k| k.len() <= LONGEST) {
        let d = edit_distance(&wanted, &norm(k));
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    let limit = (name.chars().count() / 3).max(2);
    best.filter(|(d, _)| *d <= limit).map(|(_, k)| k.to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// What a run must give for a value of `kind`, for messages.
fn expected(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Integer => "an integer",
        ValueKind::Float => "a number",
        ValueKind::String => "a string",
        ValueKind::Boolean { .. } => "true or false",
        ValueKind::Json => "a JSON value",
        _ => "a string, number or bool",
    }
}

/// A float as Python's `float()` reads it back exactly; plain digits when short, so that a
/// negative one looks like a negative number to argparse.
fn float_word(x: f64) -> String {
    let plain = format!("{x}");
    if plain.len() <= 24 {
        plain
    } else {
        format!("{x:e}")
    }
}

fn number_word(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        float_word(n.as_f64().unwrap_or(0.0))
    }
}

/// One parser of the chosen sub-command path.
struct Level {
    /// The parameters' `subcommand` for this parser (`None` for the script's parser).
    path: Option<String>,
    prefix: Vec<char>,
    /// The parser has an option that looks like a negative number (`-1`).
    negative_like: bool,
    flags: Vec<String>,
}

impl Level {
    fn new(path: Option<String>, parameters: &[Parameter]) -> Level {
        let flags: Vec<String> = parameters
            .iter()
            .filter(|p| p.subcommand == path)
            .flat_map(|p| p.flags.iter().cloned())
            .collect();
        let mut prefix: Vec<char> = flags.iter().filter_map(|f| f.chars().next()).collect();
        prefix.sort_unstable();
        prefix.dedup();
        if prefix.is_empty() {
            prefix.push('-');
        }
        let negative_like = flags.iter().any(|f| is_negative_number(f));
        Level {
            path,
            prefix,
            negative_like,
            flags,
        }
    }

    fn dash(&self, word: &str) -> bool {
        word.chars()
            .next()
            .is_some_and(|c| self.prefix.contains(&c))
    }

    /// argparse reads `word` as a value, wherever it stands.
    fn plain(&self, word: &str) -> bool {
        !self.dash(word) || (is_negative_number(word) && !self.negative_like)
    }

    fn is_long(&self, flag: &str) -> bool {
        flag.chars()
            .nth(1)
            .is_some_and(|c| self.prefix.contains(&c))
    }

    fn flag<'p>(&self, p: &'p Parameter) -> &'p str {
        p.flags
            .iter()
            .find(|f| self.is_long(f))
            .or_else(|| p.flags.first())
            .map_or("", String::as_str)
    }

    /// A word the parser would take for an abbreviation of several of its long options.
    fn ambiguous(&self, word: &str) -> bool {
        let mut chars = word.chars();
        let long = chars.next().is_some_and(|c| self.prefix.contains(&c))
            && chars.next().is_some_and(|c| self.prefix.contains(&c));
        if !long {
            return false;
        }
        let option = word.split_once('=').map_or(word, |(o, _)| o);
        !self.flags.iter().any(|f| f == option)
            && self
                .flags
                .iter()
                .filter(|f| self.is_long(f) && f.starts_with(option))
                .count()
                > 1
    }
}

/// The values for one occurrence of an option (or the words of a positional); `flag` replaces
/// the parameter's usual flag (`--no-x`).
struct Occurrence {
    flag: Option<String>,
    args: Vec<String>,
}

impl Occurrence {
    fn bare() -> Occurrence {
        Occurrence {
            flag: None,
            args: Vec::new(),
        }
    }

    fn of(args: Vec<String>) -> Occurrence {
        Occurrence { flag: None, args }
    }
}

/// One option's words (all its occurrences, in order), and whether they would swallow
/// positionals written after them.
struct OptionWords {
    name: String,
    value: String,
    words: Vec<String>,
    greedy: bool,
    remainder: bool,
}

/// How messages name a positional.
fn label(p: &PositionalWords) -> String {
    if p.param.shape() == ValueShape::Subcommand {
        "the sub-command".to_owned()
    } else {
        format!("`{}`", name_of(p.param))
    }
}

struct PositionalWords<'a> {
    param: &'a Parameter,
    value: Option<&'a Value>,
    arity: Arity,
    words: Vec<String>,
    /// For the `parsers` positional: the words after the sub-command name.
    child: Vec<String>,
}

/// A parameter and its value, while it is being written.
struct Writer<'a> {
    p: &'a Parameter,
    name: &'a str,
    level: &'a Level,
}

type Fallible<T> = Result<T, CommandLineError>;

impl Writer<'_> {
    fn wrong(&self, expected: impl Into<String>, value: &Value) -> CommandLineError {
        CommandLineError::WrongType {
            name: self.name.to_owned(),
            expected: expected.into(),
            value: show(value),
        }
    }

    fn unrepresentable(&self, value: &Value, reason: impl Into<String>) -> CommandLineError {
        CommandLineError::Unrepresentable {
            name: self.name.to_owned(),
            value: show(value),
            reason: reason.into(),
        }
    }

    fn array<'v>(&self, value: &'v Value) -> Fallible<&'v [Value]> {
        value
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.wrong("a list", value))
    }

    /// One value, type-checked, checked against `choices`, as argparse's word.
    fn scalar(&self, value: &Value, kind: ValueKind) -> Fallible<String> {
        let word = match (kind, value) {
            (ValueKind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            (ValueKind::Float | ValueKind::Any, Value::Number(n)) => number_word(n),
            (ValueKind::String | ValueKind::Any, Value::String(s)) => s.clone(),
            (ValueKind::Boolean { python_words: true }, Value::Bool(b)) => {
                if *b { "True" } else { "" }.into()
            }
            (
                ValueKind::Boolean {
                    python_words: false,
                }
                | ValueKind::Any,
                Value::Bool(b),
            ) => b.to_string(),
            (ValueKind::Json, v) => v.to_string(),
            _ => return Err(self.wrong(expected(kind), value)),
        };
        if word.contains('\0') {
            return Err(self.unrepresentable(value, "a command line cannot hold a NUL character"));
        }
        if let Some(choices) = self.p.checked_choices()
            && !choices.iter().any(|c| json_eq(c, value))
        {
            return Err(CommandLineError::NotAChoice {
                name: self.name.to_owned(),
                value: show_plain(value),
                choices: choices.iter().map(show_plain).collect(),
            });
        }
        Ok(word)
    }

    /// A list value for one occurrence of an action taking several values.
    fn list(&self, value: &Value, arity: Arity) -> Fallible<Vec<String>> {
        let items = self.array(value)?;
        match arity.words() {
            (min, Some(max)) if min == max && items.len() != max => {
                return Err(self.wrong(format!("a list of {max} value(s)"), value));
            }
            (min, _) if items.len() < min => {
                return Err(self.wrong(format!("a list of at least {min} value(s)"), value));
            }
            _ => {}
        }
        let kind = self.p.item_kind();
        items.iter().map(|item| self.scalar(item, kind)).collect()
    }

    /// Leaving the parameter out: argparse then holds its default, which must be `value`.
    fn leave_out(&self, value: &Value) -> Fallible<Vec<Occurrence>> {
        if self.p.required {
            return Err(CommandLineError::Missing {
                name: self.name.to_owned(),
            });
        }
        if self.p.default_expr.is_some() || json_eq(&self.p.default, value) {
            return Ok(Vec::new());
        }
        let reason = if self.p.default_is_suppressed() {
            "left out, it is not set at all (its default is argparse.SUPPRESS)".to_owned()
        } else {
            format!("left out, it keeps its default `{}`", show(&self.p.default))
        };
        Err(self.unrepresentable(value, reason))
    }

    /// The occurrences of the parameter that make argparse hold `value`.
    fn occurrences(&self, value: &Value) -> Fallible<Vec<Occurrence>> {
        let shape = self.p.shape();
        if value.is_null() && !self.flag_alone() {
            return self.leave_out(value);
        }
        match shape {
            ValueShape::Nothing => {
                Err(self.unrepresentable(value, "the action prints and exits; it holds no value"))
            }
            ValueShape::Subcommand => Err(CommandLineError::Invalid(format!(
                "`{}` chooses a sub-command that is not active",
                self.name
            ))),
            ValueShape::Switch => self.switch(value),
            ValueShape::Count => self.count(value),
            ValueShape::Single => self.single(value),
            ValueShape::List(arity) => self.store_list(value, arity),
            ValueShape::Appended(arity) => self.append(value, arity),
            ValueShape::Extended(arity) => self.extend(value, arity),
        }
    }

    /// An option with `nargs='?'`, which given alone holds its const.
    fn flag_alone(&self) -> bool {
        self.p.shape() == ValueShape::Single
            && self.p.arity() == Arity::Optional
            && !self.p.is_positional()
    }

    fn switch(&self, value: &Value) -> Fallible<Vec<Occurrence>> {
        let p = self.p;
        let wanted = match value {
            Value::Bool(b) => *b,
            // `store_const` also takes its const itself.
            v if p.action == Action::StoreConst
                && !p.constant.is_null()
                && json_eq(v, &p.constant) =>
            {
                true
            }
            v => return Err(self.wrong("true or false", v)),
        };
        match p.switch_way(wanted) {
            Some(SwitchWay::Flags(flags)) => {
                let flag = flags
                    .iter()
                    .find(|f| self.level.is_long(f))
                    .or_else(|| flags.first())
                    .map(|f| (*f).to_owned());
                Ok(vec![Occurrence {
                    flag,
                    args: Vec::new(),
                }])
            }
            Some(SwitchWay::LeaveOut) => Ok(Vec::new()),
            None => self.leave_out(value),
        }
    }

    fn count(&self, value: &Value) -> Fallible<Vec<Occurrence>> {
        let Some(n) = value.as_u64() else {
            return Err(self.wrong("a count (a non-negative integer)", value));
        };
        let (Some(base), Some(minimum)) = (self.p.count_base(), self.p.count_minimum()) else {
            return Err(self.unrepresentable(
                value,
                format!(
                    "argparse counts up from the default `{}`",
                    show(&self.p.default)
                ),
            ));
        };
        if n < minimum {
            if n < base {
                return Err(self.unrepresentable(
                    value,
                    format!("argparse counts up from the default `{base}`"),
                ));
            }
            return self.leave_out(value); // the default is none: no flag holds it, not 0
        }
        Ok((base..n).map(|_| Occurrence::bare()).collect())
    }

    /// The part of an `append` / `extend` list argparse starts from (a copy of the default).
    fn accumulated<'v>(&self, value: &Value, items: &'v [Value]) -> Fallible<&'v [Value]> {
        let Some(prefix) = self.p.accumulated_default() else {
            return Err(self.unrepresentable(
                value,
                format!(
                    "argparse adds to its default `{}`, not a list",
                    show(&self.p.default)
                ),
            ));
        };
        let starts =
            items.len() >= prefix.len() && items.iter().zip(prefix).all(|(a, b)| json_eq(a, b));
        if !starts {
            return Err(self.unrepresentable(
                value,
                format!(
                    "argparse adds to its default `{}`, so the list must start with it",
                    show(&self.p.default)
                ),
            ));
        }
        Ok(&items[prefix.len()..])
    }

    fn append(&self, value: &Value, arity: Arity) -> Fallible<Vec<Occurrence>> {
        let items = self.array(value)?;
        let rest = self.accumulated(value, items)?;
        if rest.is_empty() {
            return self.leave_out(value);
        }
        if arity.takes_options() && rest.len() > 1 {
            return Err(self.unrepresentable(
                value,
                "each occurrence takes every word after it, so only one can be added",
            ));
        }
        let kind = self.p.item_kind();
        rest.iter()
            .map(|item| match arity {
                Arity::Optional if item.is_null() => Ok(Occurrence::bare()),
                Arity::One | Arity::Optional => Ok(Occurrence::of(vec![self.scalar(item, kind)?])),
                Arity::Zero => Err(self.unrepresentable(value, "the action takes no values")),
                _ => Ok(Occurrence::of(self.list(item, arity)?)),
            })
            .collect()
    }

    fn extend(&self, value: &Value, arity: Arity) -> Fallible<Vec<Occurrence>> {
        let items = self.array(value)?;
        let rest = self.accumulated(value, items)?;
        let kind = self.p.item_kind();
        let words = rest
            .iter()
            .map(|item| self.scalar(item, kind))
            .collect::<Fallible<Vec<_>>>()?;
        if words.is_empty() {
            let from_nothing = self.p.default_expr.is_none()
                && (self.p.default.is_null() || self.p.default_is_suppressed());
            if from_nothing && self.p.flag_alone_gives_empty_list() {
                return Ok(vec![Occurrence::bare()]); // `--x` alone: argparse holds []
            }
            return self.leave_out(value);
        }
        match arity {
            Arity::Remainder | Arity::Parser => Ok(vec![Occurrence::of(words)]),
            Arity::AtLeast(_) if words.iter().all(|w| self.level.plain(w)) => {
                Ok(vec![Occurrence::of(words)])
            }
            // One `--x=v` per value, so that a value starting with `-` stays a value.
            Arity::AtLeast(_) => Ok(words.into_iter().map(|w| Occurrence::of(vec![w])).collect()),
            Arity::Exactly(n) if words.len() % n == 0 => Ok(words
                .chunks(n)
                .map(|c| Occurrence::of(c.to_vec()))
                .collect()),
            Arity::Exactly(n) => {
                Err(self.wrong(format!("a list whose length is a multiple of {n}"), value))
            }
            _ => Err(self.unrepresentable(
                value,
                "`extend` without a list `nargs` adds the characters of each value",
            )),
        }
    }

    fn single(&self, value: &Value) -> Fallible<Vec<Occurrence>> {
        let p = self.p;
        if value.is_null() {
            return Ok(vec![Occurrence::bare()]); // `nargs='?'` option alone: the const
        }
        // The flag alone holds a const no word can write (`const=True`).
        if self.flag_alone() && !p.constant.is_string() && json_eq(value, &p.constant) {
            return Ok(vec![Occurrence::bare()]);
        }
        let kind = p.item_kind();
        // `True` and the empty word only approximate a bool; leaving out holds the default
        // exactly.
        if kind == (ValueKind::Boolean { python_words: true })
            && !p.required
            && p.default_expr.is_none()
            && json_eq(value, &p.default)
        {
            return Ok(Vec::new());
        }
        Ok(vec![Occurrence::of(vec![self.scalar(value, kind)?])])
    }

    fn store_list(&self, value: &Value, arity: Arity) -> Fallible<Vec<Occurrence>> {
        let words = self.list(value, arity)?;
        if words.is_empty() && self.p.is_positional() {
            // A positional `*` without values holds its default, or [] for none.
            if self.p.default.is_null() {
                return Ok(Vec::new());
            }
            return self.leave_out(value);
        }
        if arity == Arity::Parser
            && let Some(first) = words.first()
            && (first == "--" || !self.level.plain(first))
        {
            return Err(self.unrepresentable(
                value,
                format!(
                    "argparse would read `{first}` as an option: the first value must not be one"
                ),
            ));
        }
        Ok(vec![Occurrence::of(words)])
    }

    /// The words of the parameter's occurrences as an option.
    fn option(&self, value: &Value) -> Fallible<OptionWords> {
        let mut block = OptionWords {
            name: self.name.to_owned(),
            value: show(value),
            words: Vec::new(),
            greedy: false,
            remainder: self.p.arity().takes_options(),
        };
        for occurrence in self.occurrences(value)? {
            let (words, greedy) = self.option_words(occurrence, value)?;
            block.words.extend(words);
            block.greedy = greedy;
        }
        Ok(block)
    }

    /// The words of one occurrence of an option, and whether they would swallow a value after
    /// them.
    fn option_words(&self, occurrence: Occurrence, value: &Value) -> Fallible<(Vec<String>, bool)> {
        let arity = self.p.arity();
        let flag = occurrence
            .flag
            .unwrap_or_else(|| self.level.flag(self.p).to_owned());
        let args = occurrence.args;
        let variable = matches!(arity, Arity::Optional | Arity::AtLeast(_));
        if arity.takes_options() {
            if args.iter().any(|a| a == "--") {
                return Err(self.unrepresentable(value, "argparse ends the option at `--`"));
            }
            let mut words = vec![flag];
            words.extend(args);
            return Ok((words, true));
        }
        if args.is_empty() {
            return Ok((vec![flag], variable));
        }
        // `--flag=value` keeps a single value that starts like an option a value, and ends a
        // list of one value.
        let single = matches!(arity, Arity::One | Arity::Exactly(1)) || variable;
        let many = matches!(arity, Arity::AtLeast(_));
        if single && args.len() == 1 && (many || self.level.dash(&args[0])) {
            return Ok((vec![format!("{flag}={}", args[0])], false));
        }
        if let Some(bad) = args.iter().find(|a| !self.level.plain(a)) {
            let reason = if is_negative_number(bad) {
                format!(
                    "argparse would read `{bad}` as an option, since the parser has an option \
                     that looks like a negative number"
                )
            } else {
                format!(
                    "argparse would read `{bad}` as an option: among several values of \
                     `{flag}`, none may start with `{}`",
                    bad.chars().next().unwrap_or('-')
                )
            };
            return Err(self.unrepresentable(value, reason));
        }
        let mut words = vec![flag];
        words.extend(args);
        Ok((words, many))
    }
}

/// A group of argparse's positional pattern: `min..=max` words, `any` also taking options
/// (`REMAINDER`, `PARSER`), `lead` needing a value first (`PARSER`).
#[derive(Debug, Clone, Copy)]
struct Group {
    min: usize,
    max: usize,
    any: bool,
    lead: bool,
}

fn group(arity: Arity) -> Group {
    let g = |min, max| Group {
        min,
        max,
        any: false,
        lead: false,
    };
    match arity {
        Arity::Zero => g(0, 0),
        Arity::One => g(1, 1),
        Arity::Optional => g(0, 1),
        Arity::AtLeast(min) => g(min, usize::MAX),
        Arity::Exactly(n) => g(n, n),
        Arity::Remainder => Group {
            any: true,
            ..g(0, usize::MAX)
        },
        Arity::Parser => Group {
            any: true,
            lead: true,
            ..g(1, usize::MAX)
        },
    }
}

/// The counts argparse's `_match_arguments_partial` gives the positionals for a run of words
/// (`true` a value, `false` an option-like word): the longest prefix of the positionals whose
/// greedy pattern matches at the start.
fn match_positionals(words: &[bool], groups: &[Group]) -> Vec<usize> {
    /// Backtracking as the regular expression does; `failed` remembers the (group, position)
    /// pairs from which the rest cannot match, so that many positionals stay cheap.
    struct Matcher<'m> {
        words: &'m [bool],
        groups: &'m [Group],
        failed: Vec<bool>,
    }
    impl Matcher<'_> {
        fn at(&mut self, g: usize, pos: usize, out: &mut Vec<usize>) -> bool {
            let Some(group) = self.groups.get(g).copied() else {
                return true;
            };
            let slot = g * (self.words.len() + 1) + pos;
            if self.failed[slot] {
                return false;
            }
            let mut run = 0;
            while pos + run < self.words.len()
                && run < group.max
                && (self.words[pos + run] || (group.any && !(group.lead && run == 0)))
            {
                run += 1;
            }
            if run >= group.min {
                for count in (group.min..=run).rev() {
                    out.push(count);
                    if self.at(g + 1, pos + count, out) {
                        return true;
                    }
                    out.pop();
                }
            }
            self.failed[slot] = true;
            false
        }
    }
    for n in (0..=groups.len()).rev() {
        let mut matcher = Matcher {
            words,
            groups: &groups[..n],
            failed: vec![false; (n + 1) * (words.len() + 1)],
        };
        let mut out = Vec::with_capacity(groups.len());
        if matcher.at(0, 0, &mut out) {
            out.extend(std::iter::repeat_n(0, groups.len() - n));
            return out;
        }
    }
    vec![0; groups.len()]
}

struct Plan<'a> {
    parameters: &'a [Parameter],
    /// The script's parser, then each chosen sub-command's.
    levels: Vec<Level>,
    /// The chosen sub-command names, one per level after the first.
    chosen: Vec<String>,
    /// For each parameter, its value if one was given for it.
    given: Vec<Option<&'a Value>>,
}

impl<'a> Plan<'a> {
    fn new(parameters: &'a [Parameter], values: &'a Map<String, Value>) -> Fallible<Plan<'a>> {
        for name in values.keys() {
            if !parameters.iter().any(|p| p.key() == Some(name.as_str())) {
                return Err(CommandLineError::Unknown {
                    name: name.clone(),
                    suggestion: closest(name, parameters.iter().filter_map(Parameter::key)),
                });
            }
        }
        let mut consumed: Vec<&str> = Vec::new();
        let mut paths: Vec<Option<String>> = vec![None];
        let mut chosen = Vec::new();
        loop {
            let here = paths.last().cloned().flatten();
            let Some(parsers) = parameters
                .iter()
                .find(|p| p.shape() == ValueShape::Subcommand && p.subcommand == here)
            else {
                break;
            };
            let names: Vec<String> = parsers
                .choices
                .iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect();
            let given = parsers.key().and_then(|k| values.get_key_value(k));
            let choice = match given {
                Some((k, value)) => {
                    consumed.push(k);
                    match value {
                        Value::Null => None,
                        Value::String(s) if names.contains(s) => Some(s.clone()),
                        Value::String(_) => {
                            return Err(CommandLineError::NotAChoice {
                                name: k.clone(),
                                value: show_plain(value),
                                choices: names,
                            });
                        }
                        _ => {
                            return Err(CommandLineError::WrongType {
                                name: k.clone(),
                                expected: "a sub-command name".into(),
                                value: show(value),
                            });
                        }
                    }
                }
                None => infer(parameters, values, &consumed, &paths, &names)?,
            };
            let Some(choice) = choice else {
                if parsers.required {
                    return Err(CommandLineError::MissingSubcommand {
                        key: parsers.key().map(str::to_owned),
                        choices: names,
                    });
                }
                break;
            };
            paths.push(Some(qualify(here.as_deref(), &choice)));
            chosen.push(choice);
        }
        let levels: Vec<Level> = paths
            .into_iter()
            .map(|path| Level::new(path, parameters))
            .collect();

        let mut given = vec![None; parameters.len()];
        for (name, value) in values {
            if consumed.contains(&name.as_str()) {
                continue;
            }
            let candidates: Vec<usize> = (0..parameters.len())
                .filter(|&i| parameters[i].key() == Some(name.as_str()))
                .collect();
            let level_of = |i: usize| {
                levels
                    .iter()
                    .position(|l| l.path == parameters[i].subcommand)
            };
            let deepest = candidates.iter().filter_map(|&i| level_of(i)).max();
            let Some(deepest) = deepest else {
                let p = &parameters[candidates[0]];
                return Err(CommandLineError::NotChosen {
                    name: name.clone(),
                    subcommand: p.subcommand.clone().unwrap_or_default(),
                    chosen: levels.last().and_then(|l| l.path.clone()),
                });
            };
            let at: Vec<usize> = candidates
                .into_iter()
                .filter(|&i| level_of(i) == Some(deepest))
                .collect();
            if at.len() > 1 {
                return Err(CommandLineError::Ambiguous {
                    name: name.clone(),
                    subcommand: levels[deepest].path.clone(),
                });
            }
            given[at[0]] = Some(value);
        }
        Ok(Plan {
            parameters,
            levels,
            chosen,
            given,
        })
    }

    fn level_of(&self, p: &Parameter) -> Option<usize> {
        self.levels.iter().position(|l| l.path == p.subcommand)
    }

    /// Required values, and values that argparse would overwrite.
    fn check(&self) -> Fallible<()> {
        for (i, p) in self.parameters.iter().enumerate() {
            let Some(level) = self.level_of(p) else {
                continue;
            };
            let optional_positional =
                p.is_positional() && matches!(p.arity(), Arity::AtLeast(0) | Arity::Remainder);
            if p.required
                && self.given[i].is_none()
                && !matches!(p.shape(), ValueShape::Subcommand | ValueShape::Nothing)
                && !optional_positional
            {
                return Err(CommandLineError::Missing {
                    name: name_of(p).to_owned(),
                });
            }
            let (Some(value), Some(dest)) = (self.given[i], p.dest.as_deref()) else {
                continue;
            };
            for (j, q) in self.parameters.iter().enumerate().skip(i + 1) {
                let Some(other) = self.given[j] else { continue };
                let same = q.dest.as_deref() == Some(dest) && self.level_of(q) == Some(level);
                let accumulate = p.action == Action::AppendConst && q.action == Action::AppendConst;
                if same && !accumulate && !json_eq(value, other) {
                    return Err(CommandLineError::Conflict {
                        name: name_of(p).to_owned(),
                        other: name_of(q).to_owned(),
                        dest: dest.to_owned(),
                        value: show(value),
                        other_value: show(other),
                    });
                }
            }
            let overwritten = self.parameters.iter().find(|q| {
                q.dest.as_deref() == Some(dest)
                    && !q.default_is_suppressed()
                    && self.level_of(q).is_some_and(|l| l > level)
            });
            if let Some(q) = overwritten {
                return Err(CommandLineError::Unrepresentable {
                    name: name_of(p).to_owned(),
                    value: show(value),
                    reason: format!(
                        "the sub-command `{}` sets `{dest}` again (with `{}`), over the parent's value",
                        q.subcommand.as_deref().unwrap_or_default(),
                        name_of(q)
                    ),
                });
            }
        }
        Ok(())
    }

    /// The words of the parser at `depth` and of the sub-commands chosen below it.
    fn render(&self, depth: usize) -> Fallible<Vec<String>> {
        let level = &self.levels[depth];
        let child = if depth + 1 < self.levels.len() {
            Some(self.render(depth + 1)?)
        } else {
            None
        };
        let mut options: Vec<OptionWords> = Vec::new();
        let mut positionals: Vec<PositionalWords> = Vec::new();
        for (i, p) in self.parameters.iter().enumerate() {
            if p.subcommand != level.path {
                continue;
            }
            let writer = Writer {
                p,
                name: name_of(p),
                level,
            };
            if p.flags.is_empty() {
                let mut words = Vec::new();
                let mut child_words = Vec::new();
                if p.shape() == ValueShape::Subcommand {
                    if let Some(child) = &child {
                        words.push(self.chosen[depth].clone());
                        child_words.clone_from(child);
                    }
                } else if let Some(value) = self.given[i] {
                    let mut occurrences = writer.occurrences(value)?;
                    if occurrences.len() > 1 {
                        return Err(writer.unrepresentable(
                            value,
                            "a positional is given once; its action would need several",
                        ));
                    }
                    if let Some(occurrence) = occurrences.pop() {
                        words = occurrence.args;
                    }
                }
                positionals.push(PositionalWords {
                    param: p,
                    value: self.given[i],
                    arity: p.arity(),
                    words,
                    child: child_words,
                });
            } else if let Some(value) = self.given[i] {
                let block = writer.option(value)?;
                if !block.words.is_empty() {
                    options.push(block);
                }
            }
        }
        Self::assemble(level, options, &positionals)
    }

    fn assemble(
        level: &Level,
        options: Vec<OptionWords>,
        positionals: &[PositionalWords],
    ) -> Fallible<Vec<String>> {
        // Options taking a variable number of values first; `REMAINDER` ones last of all.
        let (remainder, options): (Vec<_>, Vec<_>) = options.into_iter().partition(|o| o.remainder);
        let (greedy, fixed): (Vec<_>, Vec<_>) = options.into_iter().partition(|o| o.greedy);
        let ordered: Vec<OptionWords> = greedy.into_iter().chain(fixed).collect();
        let has_positionals = positionals.iter().any(|p| !p.words.is_empty());
        let blame = |p: &PositionalWords, reason: &str| CommandLineError::Unrepresentable {
            name: name_of(p.param).to_owned(),
            value: p.value.map_or_else(|| "null".to_owned(), show),
            reason: reason.to_owned(),
        };
        if let Some(last) = remainder.first()
            && (has_positionals || remainder.len() > 1)
        {
            let follower = positionals
                .iter()
                .find(|p| !p.words.is_empty())
                .map_or_else(|| format!("`{}`", remainder[1].name), label);
            return Err(CommandLineError::Unrepresentable {
                name: last.name.clone(),
                value: last.value.clone(),
                reason: format!(
                    "it takes everything after it, so nothing may follow it, but {follower} does"
                ),
            });
        }

        // `--` before the positionals when one starts like an option, or when the last option
        // would otherwise swallow them. Only a plain first positional can absorb it.
        // A `REMAINDER` takes anything once the positionals have started.
        let mut dash = false;
        let mut started = false;
        for p in positionals {
            for (j, w) in p.words.iter().enumerate() {
                let counts = p.arity != Arity::Remainder || (!started && j == 0);
                if counts && p.arity != Arity::Parser && w == "--" {
                    return Err(blame(p, "argparse drops `--` from positional values"));
                }
                if counts && p.arity != Arity::Parser && level.dash(w) {
                    dash = true;
                }
                started = true;
            }
        }
        let last_greedy = ordered.last().is_some_and(|o| o.greedy);
        let separator = has_positionals && (dash || last_greedy);
        if separator
            && let Some(first) = positionals
                .first()
                .filter(|p| matches!(p.arity, Arity::Parser | Arity::Remainder))
        {
            let to = label(first);
            if dash {
                let culprit = positionals
                    .iter()
                    .find(|p| p.arity != Arity::Parser && !p.words.is_empty())
                    .unwrap_or(first);
                return Err(blame(
                    culprit,
                    &format!(
                        "it starts with a prefix character, which needs `--` before the \
                         positionals, and argparse would hand that `--` to {to}"
                    ),
                ));
            }
            let last = ordered.last().expect("a greedy option");
            return Err(CommandLineError::Unrepresentable {
                name: last.name.clone(),
                value: last.value.clone(),
                reason: format!(
                    "its values would swallow what follows them unless `--` ends them, and \
                     argparse would hand that `--` to {to}"
                ),
            });
        }

        // The positionals as the parser's `_match_arguments_partial` will split them.
        let mut pattern = Vec::new();
        let mut intended = Vec::new();
        for p in positionals {
            for w in &p.words {
                pattern.push(separator || level.plain(w));
            }
            let mut after_separator = separator;
            for w in &p.child {
                if !after_separator && w != "--" && level.ambiguous(w) {
                    return Err(blame(
                        p,
                        &format!(
                            "the parser before the sub-command would read `{w}` as an \
                             abbreviation of several of its options"
                        ),
                    ));
                }
                if w == "--" {
                    after_separator = true;
                    pattern.push(false);
                } else {
                    pattern.push(after_separator || level.plain(w));
                }
            }
            intended.push(p.words.len() + p.child.len());
        }
        let groups: Vec<Group> = positionals.iter().map(|p| group(p.arity)).collect();
        let counts = match_positionals(&pattern, &groups);
        if let Some((p, (got, want))) = positionals
            .iter()
            .zip(counts.iter().zip(&intended))
            .find(|(_, (got, want))| got != want)
        {
            return Err(blame(
                p,
                &format!(
                    "argparse splits the positional values by count and would give it {got} \
                     value(s), not {want}"
                ),
            ));
        }

        let mut argv = Vec::new();
        for o in ordered.into_iter().chain(remainder) {
            argv.extend(o.words);
        }
        if separator {
            argv.push("--".to_owned());
        }
        for p in positionals {
            argv.extend(p.words.iter().cloned());
            argv.extend(p.child.iter().cloned());
        }
        Ok(argv)
    }
}

/// The sub-command the other values belong to, if they agree on one.
fn infer(
    parameters: &[Parameter],
    values: &Map<String, Value>,
    consumed: &[&str],
    paths: &[Option<String>],
    names: &[String],
) -> Fallible<Option<String>> {
    let here = paths.last().cloned().flatten();
    let mut vote: Option<(&str, &str, String)> = None;
    for name in values.keys() {
        if consumed.contains(&name.as_str()) {
            continue;
        }
        let candidates: Vec<&Parameter> = parameters
            .iter()
            .filter(|p| p.key() == Some(name.as_str()))
            .collect();
        if candidates.iter().any(|p| paths.contains(&p.subcommand)) {
            continue; // it belongs to a parser already chosen
        }
        let subs: Vec<&String> = names
            .iter()
            .filter(|c| {
                let path = qualify(here.as_deref(), c);
                candidates
                    .iter()
                    .any(|p| under(p.subcommand.as_deref(), &path))
            })
            .collect();
        let [sub] = subs.as_slice() else { continue };
        let path = qualify(here.as_deref(), sub);
        match &vote {
            None => vote = Some((name, sub, path)),
            Some((other, other_sub, other_path)) if other_sub != sub => {
                return Err(CommandLineError::MixedSubcommands {
                    name: (*other).to_owned(),
                    subcommand: other_path.clone(),
                    other: name.clone(),
                    other_subcommand: path,
                });
            }
            Some(_) => {}
        }
    }
    Ok(vote.map(|(_, sub, _)| sub.to_owned()))
}
