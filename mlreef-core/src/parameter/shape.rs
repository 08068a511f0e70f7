//! What a run can ask of a parameter, decided once for every layer: the shape of its value
//! (a switch, a count, one value, a list), the kind of each value, what argparse holds when
//! the run leaves it out, and what the script's `type=` makes of a word.
//!
//! [`crate::pipeline::command_line`] writes values of this shape, the JSON Schema of
//! parameters ([`crate::module::parameters_schema`]) describes them, `mlreef run-args` reads
//! them from text ([`crate::pipeline::values_from_text`]), and [`crate::Module::validate`]
//! checks defaults against them; none of them looks at `action` or `nargs` itself.

use serde_json::{Number, Value as Json};

use super::{Action, Arity, Parameter, ParameterType};

/// What argparse stores for `argparse.SUPPRESS`.
pub(crate) const SUPPRESS: &str = "==SUPPRESS==";

/// The shape of a run's value for a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueShape {
    /// No value: the action prints and exits (`help`, `version`).
    Nothing,
    /// The name of the sub-command to run (the `parsers` action).
    Subcommand,
    /// `true` or `false`: whether the flag is given, or for `BooleanOptionalAction` which of
    /// `--x` / `--no-x` (`store_true`, `store_false`, `store_const`, `append_const`, and a
    /// custom action with `nargs=0`).
    Switch,
    /// How many times the flag is given, counted from the default (`count`).
    Count,
    /// One value (`store` or a custom action, without `nargs` or with `?`).
    Single,
    /// A list: the words of one occurrence (`store` or a custom action with a list `nargs`).
    List(Arity),
    /// A list with one entry per occurrence, after the default's entries (`append`); each
    /// entry is one value, or a list when the arity gathers one.
    Appended(Arity),
    /// One list of every occurrence's values, after the default's (`extend`).
    Extended(Arity),
}

impl ValueShape {
    /// Whether the value is a list.
    #[must_use]
    pub fn is_list(self) -> bool {
        matches!(
            self,
            ValueShape::List(_) | ValueShape::Appended(_) | ValueShape::Extended(_)
        )
    }
}

/// What one value (one item, for a list) must be, and how it is written as a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueKind {
    Integer,
    Float,
    String,
    /// `python_words`: written `True` and the empty word (falsy), which `type=bool` and a
    /// script without `type=` read as Python truth values; otherwise `true` / `false` for a
    /// converter of its own (`str2bool`).
    Boolean {
        python_words: bool,
    },
    /// Any JSON value, written as JSON text (`type=json.loads`).
    Json,
    /// A string, number or bool, written as text (a converter the extractor does not know).
    Any,
}

/// What a script's `type=` makes of one word.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Conversion {
    /// The value the script receives.
    Value(Json),
    /// The converter accepts the word, but its value has no JSON form (`inf`, `nan`, an
    /// integer beyond 64 bits).
    Opaque,
    /// The converter raises, so argparse reports a usage error.
    Fails,
    /// A converter the extractor does not know.
    Unknown,
}

/// How a run makes a switch hold a bool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchWay<'a> {
    /// Give one of these flags.
    Flags(Vec<&'a str>),
    /// Leave the parameter out.
    LeaveOut,
}

/// The module schema's type of a `type=` converter, by its name.
#[must_use]
pub fn converter_type(name: &str) -> Option<ParameterType> {
    Some(match name {
        "int" => ParameterType::Integer,
        "float" => ParameterType::Float,
        "str" | "Path" | "PurePath" | "PosixPath" | "file" | "open" => ParameterType::String,
        "bool" => ParameterType::Boolean,
        "complex" => ParameterType::Complex,
        "list" => ParameterType::List,
        "tuple" => ParameterType::Tuple,
        "dict" => ParameterType::Dictionary,
        "loads" => ParameterType::Object,
        _ => return None,
    })
}

/// The module schema's type of a JSON value.
pub(crate) fn type_of_value(value: &Json) -> ParameterType {
    match value {
        Json::Bool(_) => ParameterType::Boolean,
        Json::Number(n) if n.is_i64() || n.is_u64() => ParameterType::Integer,
        Json::Number(_) => ParameterType::Float,
        Json::String(_) => ParameterType::String,
        Json::Array(_) => ParameterType::List,
        Json::Object(_) => ParameterType::Dictionary,
        Json::Null => ParameterType::Undefined,
    }
}

impl Parameter {
    /// The name a run's values use: the parameter's name, else its `dest`.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        self.name.as_deref().or(self.dest.as_deref())
    }

    /// Whether the parameter is a positional argument (it has no flags).
    #[must_use]
    pub fn is_positional(&self) -> bool {
        self.flags.is_empty()
    }

    /// How many words one occurrence takes. argparse fixes the built-in switches to none.
    #[must_use]
    pub fn arity(&self) -> Arity {
        match &self.action {
            action if action.takes_no_words() => Arity::Zero,
            Action::Parsers => Arity::Parser,
            _ => self.nargs.map_or(Arity::One, super::Nargs::arity),
        }
    }

    /// The shape of a run's value.
    #[must_use]
    pub fn shape(&self) -> ValueShape {
        match &self.action {
            Action::Help | Action::Version => ValueShape::Nothing,
            Action::Parsers => ValueShape::Subcommand,
            Action::StoreTrue
            | Action::StoreFalse
            | Action::BooleanOptional
            | Action::StoreConst
            | Action::AppendConst => ValueShape::Switch,
            Action::Count => ValueShape::Count,
            Action::Append => ValueShape::Appended(self.arity()),
            Action::Extend => ValueShape::Extended(self.arity()),
            Action::Store | Action::Custom(_) => match self.arity() {
                Arity::Zero => ValueShape::Switch,
                Arity::One | Arity::Optional => ValueShape::Single,
                arity => ValueShape::List(arity),
            },
        }
    }

    /// The module schema's type of one value: the parameter's own type for a single value,
    /// each item's for a list (what `type=` makes of a word, and strings without one).
    #[must_use]
    pub fn item_type(&self) -> ParameterType {
        if !self.shape().is_list() {
            return self.schema_type;
        }
        match self.python_type.as_deref() {
            None => ParameterType::String,
            Some(converter) => converter_type(converter).unwrap_or(ParameterType::Undefined),
        }
    }

    /// The kind of one value (of each item, for a list).
    #[must_use]
    pub fn item_kind(&self) -> ValueKind {
        if self.python_type.as_deref() == Some("loads") {
            return ValueKind::Json;
        }
        match self.item_type() {
            ParameterType::String => ValueKind::String,
            ParameterType::Integer => ValueKind::Integer,
            ParameterType::Float => ValueKind::Float,
            ParameterType::Boolean => ValueKind::Boolean {
                python_words: matches!(self.python_type.as_deref(), None | Some("bool")),
            },
            _ => ValueKind::Any,
        }
    }

    /// The choices a value is checked against, when they can be compared with a value of the
    /// parameter's kind (not for `json.loads` values, nor for choices that are objects).
    #[must_use]
    pub fn checked_choices(&self) -> Option<&[Json]> {
        let choices = self.choices.as_deref()?;
        let checkable =
            self.item_kind() != ValueKind::Json && choices.iter().all(|c| !c.is_object());
        checkable.then_some(choices)
    }

    /// Whether the default is `argparse.SUPPRESS` (argparse then sets no attribute at all).
    #[must_use]
    pub fn default_is_suppressed(&self) -> bool {
        self.default.as_str() == Some(SUPPRESS)
    }

    /// How a run makes a switch hold `wanted`, or `None` when no command line does.
    ///
    /// A flag sets its action's value; leaving the parameter out keeps the default, which
    /// must be `wanted` (an unknown default is trusted). For `store_const`, `append_const` and
    /// custom switches, `false` means leaving the flag out whatever the default.
    #[must_use]
    pub fn switch_way(&self, wanted: bool) -> Option<SwitchWay<'_>> {
        let flags: Vec<&str> = match &self.action {
            Action::StoreTrue if wanted => self.flags.iter().map(String::as_str).collect(),
            Action::StoreFalse if !wanted => self.flags.iter().map(String::as_str).collect(),
            Action::BooleanOptional => self
                .flags
                .iter()
                .filter(|f| f.starts_with("--no-") != wanted)
                .map(String::as_str)
                .collect(),
            Action::StoreTrue | Action::StoreFalse => Vec::new(),
            _ if wanted => self.flags.iter().map(String::as_str).collect(),
            _ => return (!self.required).then_some(SwitchWay::LeaveOut),
        };
        if !flags.is_empty() {
            return Some(SwitchWay::Flags(flags));
        }
        let kept = self.default_expr.is_some() || self.default == Json::Bool(wanted);
        (kept && !self.required).then_some(SwitchWay::LeaveOut)
    }

    /// Where an accumulating action (`append`, `extend`) starts: argparse adds to a copy of
    /// the default. `None` when the default is not a list, so no occurrence can be added.
    #[must_use]
    pub fn accumulated_default(&self) -> Option<&[Json]> {
        if self.default_expr.is_some() {
            return Some(&[]);
        }
        match &self.default {
            Json::Array(items) => Some(items),
            Json::Null => Some(&[]),
            _ if self.default_is_suppressed() => Some(&[]),
            _ => None,
        }
    }

    /// The fewest entries a run can ask of an accumulating action: its starting list, and
    /// one more when leaving it out holds no list at all (a `None` or suppressed default) and
    /// no flag alone gives the empty list (as `extend` with `nargs='*'` does).
    #[must_use]
    pub fn fewest_accumulated(&self) -> Option<usize> {
        let start = self.accumulated_default()?.len();
        let holds_no_list =
            self.default_expr.is_none() && (self.default.is_null() || self.default_is_suppressed());
        Some(start + usize::from(holds_no_list && !self.flag_alone_gives_empty_list()))
    }

    /// `extend` with `nargs='*'` on an option: the flag alone extends nothing, so argparse
    /// holds the empty list even without a default.
    #[must_use]
    pub fn flag_alone_gives_empty_list(&self) -> bool {
        self.action == Action::Extend && self.arity() == Arity::AtLeast(0) && !self.is_positional()
    }

    /// Where `count` starts counting: its default (none or an unknown one counts from 0);
    /// `None` when the default is not a count.
    #[must_use]
    pub fn count_base(&self) -> Option<u64> {
        if self.default_expr.is_some() || self.default.is_null() || self.default_is_suppressed() {
            return Some(0);
        }
        self.default.as_u64()
    }

    /// The smallest count a run can ask of `count`: where it counts from, or 1 when the default
    /// is none (leaving the flag out then holds `None`, not 0).
    #[must_use]
    pub fn count_minimum(&self) -> Option<u64> {
        let base = self.count_base()?;
        let from_none = self.default_expr.is_none() && !self.default.is_number();
        Some(base + u64::from(from_none))
    }

    /// What the script's `type=` makes of `text`, as argparse calls it for a word of the
    /// command line and for a string default.
    #[must_use]
    pub fn convert(&self, text: &str) -> Conversion {
        match self.python_type.as_deref() {
            None | Some("str" | "Path" | "PurePath" | "PosixPath") => {
                Conversion::Value(Json::String(text.to_owned()))
            }
            // `python_type` names `functools.partial(int, base=16)` by its function, so a
            // word that another base reads is not certainly refused.
            Some("int") => match python_int(text) {
                Conversion::Fails if other_base_int(text) => Conversion::Unknown,
                conversion => conversion,
            },
            Some("float") => python_float(text),
            Some("bool") => Conversion::Value(Json::Bool(!text.is_empty())),
            Some(_) => Conversion::Unknown,
        }
    }
}

/// Python's `str.strip()` white space, for the characters `int()` and `float()` skip.
fn python_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f'
    )
}

/// Digits with single underscores between them (Python's `digitpart`); the rest of `text`.
fn digit_part(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let digit = bytes[end].is_ascii_digit();
        let separator =
            bytes[end] == b'_' && end > 0 && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !(digit || separator) {
            break;
        }
        end += 1;
    }
    (end > 0).then(|| text.split_at(end))
}

/// The text `int()` / `float()` would read, or `None` when it is not ASCII (Python accepts
/// digits of other scripts, which this reader does not judge).
fn stripped(text: &str) -> Option<&str> {
    text.is_ascii().then(|| text.trim_matches(python_space))
}

/// What `int(text)` gives.
pub(crate) fn python_int(text: &str) -> Conversion {
    let Some(body) = stripped(text) else {
        return Conversion::Unknown;
    };
    let unsigned = body.strip_prefix(['+', '-']).unwrap_or(body);
    match digit_part(unsigned) {
        Some((_, "")) => {
            let digits = body.replace('_', "");
            digits
                .parse::<i64>()
                .map(Json::from)
                .or_else(|_| digits.parse::<u64>().map(Json::from))
                .map_or(Conversion::Opaque, Conversion::Value)
        }
        _ => Conversion::Fails,
    }
}

/// Whether `int(text, 16)` or `int(text, 0)` reads `text` (`ff`, `0x1F`, `0o17`, `0b101`).
fn other_base_int(text: &str) -> bool {
    let Some(body) = stripped(text) else {
        return false;
    };
    let unsigned = body.strip_prefix(['+', '-']).unwrap_or(body);
    let lower = unsigned.to_ascii_lowercase();
    let (digits, radix) = match lower.get(..2) {
        // After a base prefix, one `_` may come first (`0x_ff`).
        Some("0x") => (lower[2..].strip_prefix('_').unwrap_or(&lower[2..]), 16),
        Some("0o") => (lower[2..].strip_prefix('_').unwrap_or(&lower[2..]), 8),
        Some("0b") => (lower[2..].strip_prefix('_').unwrap_or(&lower[2..]), 2),
        _ => (lower.as_str(), 16),
    };
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c == '_' || c.is_digit(radix))
}

/// What `float(text)` gives.
pub(crate) fn python_float(text: &str) -> Conversion {
    let Some(body) = stripped(text) else {
        return Conversion::Unknown;
    };
    let unsigned = body.strip_prefix(['+', '-']).unwrap_or(body);
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return Conversion::Opaque;
    }
    if !decimal_float(unsigned) {
        return Conversion::Fails;
    }
    match body.replace('_', "").parse::<f64>() {
        Ok(x) => {
            Number::from_f64(x).map_or(Conversion::Opaque, |n| Conversion::Value(Json::Number(n)))
        }
        Err(_) => Conversion::Fails,
    }
}

/// Python's `floatnumber` without sign: `1`, `1.`, `.5`, `1.5e-3`, `1_000.0`.
fn decimal_float(text: &str) -> bool {
    let (int_part, rest) = digit_part(text).unwrap_or(("", text));
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after) => digit_part(after).unwrap_or(("", after)),
        None => ("", rest),
    };
    if int_part.is_empty() && fraction.is_empty() {
        return false;
    }
    match rest.strip_prefix(['e', 'E']) {
        None => rest.is_empty(),
        Some(exponent) => {
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            matches!(digit_part(exponent), Some((_, "")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn int_reads_as_python_does() {
        for (text, value) in [
            ("5", json!(5)),
            (" -7\n", json!(-7)),
            ("+0", json!(0)),
            ("007", json!(7)),
            ("1_000", json!(1000)),
            ("18446744073709551615", json!(u64::MAX)),
        ] {
            assert_eq!(python_int(text), Conversion::Value(value), "{text:?}");
        }
        for text in [
            "", " ", "5.0", "1e3", "_1", "1_", "1__0", "0x10", "- 5", "five",
        ] {
            assert_eq!(python_int(text), Conversion::Fails, "{text:?}");
        }
        assert_eq!(python_int("99999999999999999999999"), Conversion::Opaque);
        assert_eq!(python_int("٣"), Conversion::Unknown);
        for text in ["ff", "0x1F", "-0o17", "0b1_01", "0x_ff"] {
            assert!(other_base_int(text), "{text:?}");
        }
        for text in ["ten", "0,1", "none", "0x", "0b2", "f__f", "auto"] {
            assert!(!other_base_int(text), "{text:?}");
        }
    }

    #[test]
    fn float_reads_as_python_does() {
        for (text, value) in [
            ("0.5", json!(0.5)),
            ("1", json!(1.0)),
            ("1.", json!(1.0)),
            (".5", json!(0.5)),
            ("-1.5e-3", json!(-0.0015)),
            ("1_000.25", json!(1000.25)),
            (" 2E2 ", json!(200.0)),
        ] {
            assert_eq!(python_float(text), Conversion::Value(value), "{text:?}");
        }
        for text in ["", ".", "e5", "1e", "1.5.2", "1_.5", "0x1p3", "fast", "1,5"] {
            assert_eq!(python_float(text), Conversion::Fails, "{text:?}");
        }
        for text in ["inf", "-Infinity", "nan", "1e999"] {
            assert_eq!(python_float(text), Conversion::Opaque, "{text:?}");
        }
    }
}
