//! argparse's own objects and rules: parsers, groups and actions as `CPython` 3.11 builds them.
//!
//! The interpreter evaluates the script's calls; this module decides what argparse would do
//! with them (dest, implied defaults, required positionals, `set_defaults`, parents, conflict
//! resolution), so those rules live in one place.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::value::Const;
use crate::parameter::{Action as ParameterAction, Nargs, Parameter, ParameterType};

pub(crate) type ParserId = usize;
pub(crate) type ActionId = usize;
pub(crate) type GroupId = usize;

/// What argparse stores for `argparse.SUPPRESS`.
pub(crate) const SUPPRESS: &str = "==SUPPRESS==";

/// A keyword value: known, or only its source text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Slot {
    Known(Const),
    Dynamic(String),
}

impl Slot {
    fn json(&self) -> Json {
        match self {
            Slot::Known(c) => c.to_json(),
            Slot::Dynamic(_) => Json::Null,
        }
    }

    fn known(&self) -> Option<&Const> {
        match self {
            Slot::Known(c) => Some(c),
            Slot::Dynamic(_) => None,
        }
    }

    fn string(&self) -> Option<String> {
        self.known().and_then(Const::as_str).map(str::to_owned)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub option_strings: Vec<String>,
    /// `None` for a sub-parsers action without `dest` (argparse holds SUPPRESS).
    pub dest: Option<String>,
    pub kind: String,
    pub nargs: Option<Nargs>,
    pub constant: Slot,
    pub default: Slot,
    pub python_type: Option<String>,
    pub choices: Option<Slot>,
    pub required: bool,
    pub help: Option<Slot>,
    pub metavar: Option<Slot>,
    pub group: Option<String>,
    /// For a sub-parsers action: each name (aliases too) and its parser.
    pub subparsers: Vec<(String, ParserId)>,
    pub line: usize,
    pub column: usize,
    pub file: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Parser {
    pub prefix_chars: String,
    pub argument_default: Option<Slot>,
    pub resolve_conflicts: bool,
    pub actions: Vec<ActionId>,
    /// Which action each option string belongs to, so that adding an argument costs the
    /// same with ten thousand others as with none.
    options: HashMap<String, ActionId>,
    pub defaults: Vec<(String, Slot)>,
    /// The sub-command path of a parser made by `add_parser`.
    pub subcommand: Option<String>,
    pub has_subparsers: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub parser: ParserId,
    /// The title its actions are listed under (a mutually exclusive group lists its actions
    /// under the group it was made on).
    pub title: Option<String>,
}

/// The keywords of an `ArgumentParser(...)` call that change how arguments are added.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParserConfig {
    pub prefix_chars: Option<String>,
    pub argument_default: Option<Slot>,
    pub resolve_conflicts: bool,
    pub add_help: bool,
    pub parents: Vec<ParserId>,
    pub subcommand: Option<String>,
}

/// One evaluated `add_argument` call.
#[derive(Debug, Clone, Default)]
pub(crate) struct ArgSpec {
    pub names: Vec<String>,
    /// Keywords other than `action` and `type`, in call order.
    pub keywords: Vec<(String, Slot)>,
    /// The action as a name: a built-in action string, `boolean_optional`, or a class name.
    pub action: Option<String>,
    pub python_type: Option<String>,
    pub line: usize,
    pub column: usize,
    pub file: Option<String>,
}

impl ArgSpec {
    fn get(&self, key: &str) -> Option<&Slot> {
        self.keywords
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Model {
    pub parsers: Vec<Parser>,
    pub actions: Vec<Action>,
    pub groups: Vec<Group>,
}

fn nargs_of(slot: Option<&Slot>) -> Result<Option<Nargs>, String> {
    match slot {
        None | Some(Slot::Known(Const::None)) => Ok(None),
        Some(Slot::Known(Const::Int(n))) => Ok(Some(Nargs::Exactly(*n))),
        Some(Slot::Known(Const::Str(s))) if Nargs::from_pattern(s).is_some() => {
            Ok(Nargs::from_pattern(s))
        }
        Some(Slot::Known(other)) => Err(format!("invalid nargs value {}", other.short_repr(80))),
        Some(Slot::Dynamic(text)) => Err(format!("nargs `{text}` cannot be evaluated")),
    }
}

impl Model {
    pub(crate) fn new_parser(&mut self, config: ParserConfig) -> Result<ParserId, String> {
        let id = self.parsers.len();
        let prefix_chars = config.prefix_chars.unwrap_or_else(|| "-".to_owned());
        self.parsers.push(Parser {
            prefix_chars: prefix_chars.clone(),
            argument_default: config.argument_default,
            resolve_conflicts: config.resolve_conflicts,
            actions: Vec::new(),
            options: HashMap::new(),
            defaults: Vec::new(),
            subcommand: config.subcommand,
            has_subparsers: false,
        });
        if config.add_help {
            let p = if prefix_chars.contains('-') {
                '-'
            } else {
                prefix_chars.chars().next().unwrap_or('-')
            };
            let help = Action {
                option_strings: vec![format!("{p}h"), format!("{p}{p}help")],
                dest: Some(SUPPRESS.to_owned()),
                kind: "help".into(),
                nargs: Some(Nargs::Exactly(0)),
                constant: Slot::Known(Const::None),
                default: Slot::Known(Const::Str(SUPPRESS.into())),
                python_type: None,
                choices: None,
                required: false,
                help: None,
                metavar: None,
                group: None,
                subparsers: Vec::new(),
                line: 0,
                column: 0,
                file: None,
            };
            self.insert(id, help)?;
        }
        // Parents share their action objects with the child, in their order, and hand down
        // their `set_defaults`.
        for parent in config.parents {
            let actions = self.parsers[parent].actions.clone();
            for action in actions {
                self.attach(id, action)?;
            }
            let defaults = self.parsers[parent].defaults.clone();
            for (k, v) in defaults {
                set_entry(&mut self.parsers[id].defaults, k, v);
            }
        }
        Ok(id)
    }

    pub(crate) fn new_group(&mut self, parser: ParserId, title: Option<String>) -> GroupId {
        self.groups.push(Group { parser, title });
        self.groups.len() - 1
    }

    /// `parser.set_defaults(**defaults)`: later arguments with these dests take them as their
    /// default, and existing ones are updated now.
    pub(crate) fn set_defaults(&mut self, parser: ParserId, defaults: Vec<(String, Slot)>) {
        for (key, value) in defaults {
            for &action in &self.parsers[parser].actions {
                if self.actions[action].dest.as_deref() == Some(key.as_str()) {
                    self.actions[action].default = value.clone();
                }
            }
            set_entry(&mut self.parsers[parser].defaults, key, value);
        }
    }

    /// `add_argument`, following `_ActionsContainer.add_argument` of `CPython` 3.11.
    pub(crate) fn add_argument(
        &mut self,
        parser: ParserId,
        group: Option<String>,
        spec: &ArgSpec,
    ) -> Result<ActionId, String> {
        let prefix = self.parsers[parser].prefix_chars.clone();
        let is_prefixed = |s: &str| s.chars().next().is_some_and(|c| prefix.contains(c));
        let explicit_dest = spec
            .get("dest")
            .map(|d| d.string().ok_or("dest cannot be evaluated"));
        let positional =
            spec.names.is_empty() || (spec.names.len() == 1 && !is_prefixed(&spec.names[0]));
        let mut required = matches!(spec.get("required"), Some(Slot::Known(c)) if c.truthy());
        let nargs = nargs_of(spec.get("nargs"))?;
        let (option_strings, dest) = if positional {
            if spec.get("required").is_some() {
                return Err("'required' is an invalid argument for positionals".into());
            }
            let dest = match (spec.names.first(), explicit_dest) {
                (Some(_), Some(_)) => {
                    return Err("dest supplied twice for positional argument".into());
                }
                (Some(name), None) => name.clone(),
                (None, Some(d)) => d?,
                (None, None) => return Err("missing the argument's name".into()),
            };
            let optional = matches!(nargs, Some(Nargs::Optional | Nargs::ZeroOrMore));
            let star = nargs == Some(Nargs::ZeroOrMore);
            if !optional || (star && spec.get("default").is_none()) {
                required = true;
            }
            (Vec::new(), dest)
        } else {
            for name in &spec.names {
                if !is_prefixed(name) {
                    return Err(format!(
                        "invalid option string `{name}`: must start with a character `{prefix}`"
                    ));
                }
            }
            let long = spec
                .names
                .iter()
                .find(|s| s.chars().nth(1).is_some_and(|c| prefix.contains(c)));
            let dest = if let Some(d) = explicit_dest {
                d?
            } else {
                let from = long.unwrap_or(&spec.names[0]);
                let stripped = from.trim_start_matches(|c| prefix.contains(c));
                if stripped.is_empty() {
                    return Err(format!("dest= is required for options like `{from}`"));
                }
                stripped.replace('-', "_")
            };
            (spec.names.clone(), dest)
        };

        // Defaults that come from the parser rather than the call.
        let default = match spec.get("default") {
            Some(d) => Some(d.clone()),
            None => self.parsers[parser]
                .defaults
                .iter()
                .find(|(k, _)| *k == dest)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    self.parsers[parser]
                        .argument_default
                        .clone()
                        .filter(|d| *d != Slot::Known(Const::None))
                }),
        };
        let kind = spec.action.clone().unwrap_or_else(|| "store".into());
        let given_const = spec.get("const").cloned();
        let none = || Slot::Known(Const::None);
        let mut help = spec.get("help").cloned();
        let mut option_strings = option_strings;
        let (nargs, constant, default) = match kind.as_str() {
            "store" | "append" | "extend" => {
                if nargs == Some(Nargs::Exactly(0)) {
                    return Err("nargs for store actions must be != 0".into());
                }
                let optional = nargs == Some(Nargs::Optional);
                if given_const.as_ref().is_some_and(|c| *c != none()) && !optional {
                    return Err("nargs must be '?' to supply const".into());
                }
                (
                    nargs,
                    given_const.unwrap_or_else(none),
                    default.unwrap_or_else(none),
                )
            }
            "store_const" | "append_const" => (
                Some(Nargs::Exactly(0)),
                given_const.unwrap_or_else(none),
                default.unwrap_or_else(none),
            ),
            "store_true" => (
                Some(Nargs::Exactly(0)),
                Slot::Known(Const::Bool(true)),
                default.unwrap_or(Slot::Known(Const::Bool(false))),
            ),
            "store_false" => (
                Some(Nargs::Exactly(0)),
                Slot::Known(Const::Bool(false)),
                default.unwrap_or(Slot::Known(Const::Bool(true))),
            ),
            "count" => (
                Some(Nargs::Exactly(0)),
                none(),
                default.unwrap_or_else(none),
            ),
            "help" => (
                Some(Nargs::Exactly(0)),
                none(),
                default.unwrap_or(Slot::Known(Const::Str(SUPPRESS.into()))),
            ),
            "version" => {
                if help.is_none() {
                    help = Some(Slot::Known(Const::Str(
                        "show program's version number and exit".into(),
                    )));
                }
                (
                    Some(Nargs::Exactly(0)),
                    none(),
                    default.unwrap_or(Slot::Known(Const::Str(SUPPRESS.into()))),
                )
            }
            "boolean_optional" => {
                option_strings = option_strings
                    .into_iter()
                    .flat_map(|s| {
                        let negated = s.strip_prefix("--").map(|rest| format!("--no-{rest}"));
                        std::iter::once(s).chain(negated)
                    })
                    .collect();
                // CPython 3.11.7 no longer appends the default to the help text (3.9 and
                // 3.10 did), so the help stays as written.
                (
                    Some(Nargs::Exactly(0)),
                    none(),
                    default.unwrap_or_else(none),
                )
            }
            // A custom Action class: argparse passes the keywords through unchanged.
            _ => (
                nargs,
                given_const.unwrap_or_else(none),
                default.unwrap_or_else(none),
            ),
        };
        let action = Action {
            option_strings,
            dest: Some(dest),
            kind,
            nargs,
            constant,
            default,
            python_type: spec.python_type.clone(),
            choices: spec.get("choices").cloned().filter(|c| *c != none()),
            required,
            help,
            metavar: spec.get("metavar").cloned().filter(|c| *c != none()),
            group,
            subparsers: Vec::new(),
            line: spec.line,
            column: spec.column,
            file: spec.file.clone(),
        };
        self.insert(parser, action)
    }

    /// `add_subparsers`: one action listed among the parser's actions.
    // One argument per keyword of argparse's `add_subparsers` that changes the listing.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_subparsers(
        &mut self,
        parser: ParserId,
        dest: Option<String>,
        required: bool,
        help: Option<Slot>,
        metavar: Option<Slot>,
        group: Option<String>,
        line: usize,
        column: usize,
        file: Option<String>,
    ) -> Result<ActionId, String> {
        if self.parsers[parser].has_subparsers {
            return Err("cannot have multiple subparser arguments".into());
        }
        self.parsers[parser].has_subparsers = true;
        let action = Action {
            option_strings: Vec::new(),
            dest,
            kind: "parsers".into(),
            nargs: Some(Nargs::Parser),
            constant: Slot::Known(Const::None),
            default: Slot::Known(Const::None),
            python_type: None,
            choices: None,
            required,
            help,
            metavar,
            group,
            subparsers: Vec::new(),
            line,
            column,
            file,
        };
        self.insert(parser, action)
    }

    fn insert(&mut self, parser: ParserId, action: Action) -> Result<ActionId, String> {
        let id = self.actions.len();
        self.actions.push(action);
        if let Err(e) = self.attach(parser, id) {
            self.actions.pop();
            return Err(e);
        }
        Ok(id)
    }

    /// Adds an existing action to a parser (its own, or a parent's it shares).
    fn attach(&mut self, parser: ParserId, action: ActionId) -> Result<(), String> {
        self.check_conflicts(parser, action)?;
        let p = &mut self.parsers[parser];
        for s in &self.actions[action].option_strings {
            p.options.insert(s.clone(), action);
        }
        p.actions.push(action);
        Ok(())
    }

    /// argparse's conflict handling: an error by default; with `conflict_handler="resolve"`
    /// the older action loses the clashing option strings and goes away when it has none left.
    fn check_conflicts(&mut self, parser: ParserId, new: ActionId) -> Result<(), String> {
        let p = &self.parsers[parser];
        // An action shared with a parent may have lost a string to the parent's own conflict
        // handling since it was indexed here.
        let clashes: Vec<(ActionId, String)> = self.actions[new]
            .option_strings
            .iter()
            .filter_map(|s| {
                let old = *p.options.get(s)?;
                self.actions[old]
                    .option_strings
                    .contains(s)
                    .then(|| (old, s.clone()))
            })
            .collect();
        if clashes.is_empty() {
            return Ok(());
        }
        if !self.parsers[parser].resolve_conflicts {
            let names: Vec<&str> = clashes.iter().map(|(_, s)| s.as_str()).collect();
            return Err(format!(
                "conflicting option string(s): {}",
                names.join(", ")
            ));
        }
        for (old, s) in clashes {
            self.actions[old].option_strings.retain(|x| *x != s);
            self.parsers[parser].options.remove(&s);
            if self.actions[old].option_strings.is_empty() {
                self.parsers[parser].actions.retain(|&a| a != old);
            }
        }
        Ok(())
    }

    /// The default a dest has when the command line gives no value.
    pub(crate) fn default_of(&self, parser: ParserId, dest: &str) -> Option<Const> {
        let action = self.parsers[parser]
            .actions
            .iter()
            .map(|&a| &self.actions[a])
            .find(|a| a.dest.as_deref() == Some(dest))?;
        match &action.default {
            Slot::Known(Const::Str(s)) if &**s == SUPPRESS => None,
            Slot::Known(c) => Some(c.clone()),
            Slot::Dynamic(_) => None,
        }
    }

    /// The parameters of `parser` as argparse lists them, followed by those of its
    /// sub-commands (depth first, each parser once even when it has aliases).
    pub(crate) fn parameters(&self, parser: ParserId) -> Vec<Parameter> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        self.collect(parser, &mut out, &mut seen);
        out
    }

    fn collect(&self, parser: ParserId, out: &mut Vec<Parameter>, seen: &mut Vec<ParserId>) {
        if seen.contains(&parser) {
            return;
        }
        seen.push(parser);
        let subcommand = self.parsers[parser].subcommand.clone();
        let mut children = Vec::new();
        for &id in &self.parsers[parser].actions {
            let a = &self.actions[id];
            if a.kind == "help" {
                continue;
            }
            out.push(Self::parameter(
                a,
                &self.parsers[parser].prefix_chars,
                subcommand.clone(),
            ));
            for (_, child) in &a.subparsers {
                if !children.contains(child) {
                    children.push(*child);
                }
            }
        }
        for child in children {
            self.collect(child, out, seen);
        }
    }

    fn parameter(a: &Action, prefix: &str, subcommand: Option<String>) -> Parameter {
        let name = if a.option_strings.is_empty() {
            a.dest.clone()
        } else {
            let long = a
                .option_strings
                .iter()
                .find(|s| s.chars().nth(1).is_some_and(|c| prefix.contains(c)))
                .unwrap_or(&a.option_strings[0]);
            Some(long.trim_start_matches(|c| prefix.contains(c)).to_owned())
        };
        let choices: Option<Vec<Json>> = if a.kind == "parsers" {
            Some(
                a.subparsers
                    .iter()
                    .map(|(n, _)| Json::String(n.clone()))
                    .collect(),
            )
        } else {
            a.choices.as_ref().and_then(Slot::known).and_then(|c| {
                c.written_items()
                    .map(|items| items.iter().map(Const::to_json).collect())
            })
        };
        let mut parameter = Parameter {
            name,
            dest: a.dest.clone(),
            flags: a.option_strings.clone(),
            action: ParameterAction::from_name(&a.kind),
            python_type: a.python_type.clone(),
            schema_type: ParameterType::Undefined,
            default: a.default.json(),
            default_expr: match &a.default {
                Slot::Dynamic(text) => Some(text.clone()),
                Slot::Known(_) => None,
            },
            required: a.required,
            choices,
            nargs: a.nargs,
            constant: a.constant.json(),
            help: a
                .help
                .as_ref()
                .and_then(Slot::known)
                .filter(|h| **h != Const::None)
                .map(Const::written_text),
            metavar: a.metavar.as_ref().and_then(Slot::known).map(Const::to_json),
            group: a.group.clone(),
            subcommand,
            line: a.line,
            column: a.column,
            file: a.file.clone(),
        };
        parameter.schema_type = parameter.inferred_type();
        parameter
    }
}

fn set_entry(entries: &mut Vec<(String, Slot)>, key: String, value: Slot) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}
