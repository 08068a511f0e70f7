//! argparse's own calls: `ArgumentParser(...)`, `add_argument`, groups, sub-parsers,
//! `set_defaults` and the parse calls, handed to the model in `argparse::model`.

use super::{CallArgs, Const, GroupId, Interp, ParserId, Value, ast};
use crate::argparse::model::{ArgSpec, ParserConfig, Slot};
use crate::parameter::Severity;
use crate::python::{Ranged, TextRange};

impl<'a> Interp<'a> {
    pub(super) fn slot(
        &mut self,
        value: &Value<'a>,
        expr: Option<&'a ast::Expr>,
        code: &'static str,
        what: &str,
    ) -> Slot {
        if let Some(c) = value.to_const(&self.budget) {
            // The value will be written out whole, however much of it is shared.
            let _ = self.budget.output(&c);
            Slot::Known(c)
        } else {
            let text = expr.map_or_else(String::new, |e| self.text(e.range()));
            if let Some(e) = expr {
                self.report(
                    Severity::Warning,
                    code,
                    e.range(),
                    format!(
                        "cannot evaluate the {what} `{}` without running the script",
                        self.excerpt(e.range())
                    ),
                );
            }
            Slot::Dynamic(text)
        }
    }

    pub(super) fn new_parser(
        &mut self,
        args: &CallArgs<'a>,
        range: TextRange,
        subcommand: Option<String>,
    ) -> Value<'a> {
        // ArgumentParser(prog, usage, description, epilog, parents, formatter_class,
        //                prefix_chars, fromfile_prefix_chars, argument_default,
        //                conflict_handler, add_help, ...); add_parser takes keywords only.
        let pos = |i: usize, name: &str| {
            if subcommand.is_some() {
                args.keyword(name)
            } else {
                args.get(i, name)
            }
        };
        self.findings.use_flow();
        let budget = &self.budget;
        let text_of = |v: &Value<'a>| match v {
            Value::Const(Const::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        let parents = pos(4, "parents")
            .and_then(|v| v.items(budget))
            .unwrap_or_default();
        let parents: Vec<ParserId> = parents
            .iter()
            .filter_map(|p| {
                if let Value::Parser(id) = p {
                    Some(*id)
                } else {
                    None
                }
            })
            .collect();
        let prefix_chars = pos(6, "prefix_chars").and_then(text_of);
        let argument_default = pos(8, "argument_default").cloned().map(|v| {
            let expr = args
                .keywords
                .iter()
                .find(|(k, ..)| k == "argument_default")
                .and_then(|(.., e)| *e);
            self.slot(&v, expr, "dynamic-default", "argument_default")
        });
        let resolve = pos(9, "conflict_handler").and_then(text_of).as_deref() == Some("resolve");
        let add_help = pos(10, "add_help").and_then(Value::truthy).unwrap_or(true);
        let config = ParserConfig {
            prefix_chars,
            argument_default,
            resolve_conflicts: resolve,
            add_help,
            parents,
            subcommand,
        };
        match self.model.new_parser(config) {
            Ok(id) => Value::Parser(id),
            Err(e) => {
                self.report(
                    Severity::Error,
                    "argparse-error",
                    range,
                    format!("argparse would refuse this parser: {e}"),
                );
                Value::Unknown
            }
        }
    }

    pub(super) fn parser_method(
        &mut self,
        parser: ParserId,
        group: Option<&(GroupId, Option<String>)>,
        name: &str,
        args: &CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
        let title = group.as_ref().and_then(|(_, t)| t.clone());
        match name {
            "add_argument" => {
                self.findings.use_flow();
                self.add_argument(parser, title, args, range);
                Value::Unknown
            }
            "add_argument_group" => {
                let t = match args.get(0, "title") {
                    Some(Value::Const(Const::Str(t))) => Some(t.to_string()),
                    _ => None,
                };
                Value::Group(self.model.new_group(parser, t))
            }
            "add_mutually_exclusive_group" => Value::Group(self.model.new_group(parser, title)),
            "add_subparsers" => self.add_subparsers(parser, args, range),
            "set_defaults" => {
                self.findings.use_flow();
                let mut defaults = Vec::new();
                for (k, v, e) in &args.keywords {
                    if k == "**" {
                        self.report(
                            Severity::Warning,
                            "dynamic-default",
                            range,
                            format!("cannot evaluate the defaults in `{}`", self.excerpt(range)),
                        );
                        continue;
                    }
                    let slot = match v.to_const(&self.budget) {
                        Some(c) => {
                            let _ = self.budget.output(&c);
                            Slot::Known(c)
                        }
                        None => Slot::Dynamic(e.map_or_else(String::new, |e| self.text(e.range()))),
                    };
                    defaults.push((k.clone(), slot));
                }
                self.model.set_defaults(parser, defaults);
                Value::Const(Const::None)
            }
            "parse_args" | "parse_intermixed_args" if group.is_none() => {
                self.parse_calls.push(parser);
                self.stopped = true;
                Value::Namespace(parser)
            }
            "parse_known_args" | "parse_known_intermixed_args" if group.is_none() => {
                self.parse_calls.push(parser);
                Value::seq(
                    vec![Value::Namespace(parser), Value::Unknown],
                    true,
                    &self.budget,
                )
            }
            _ => Value::Unknown,
        }
    }

    /// `subparsers.add_parser(name, aliases=[...], ...)`: a parser for the sub-command.
    pub(super) fn add_parser(
        &mut self,
        parent: ParserId,
        action: usize,
        args: &CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
        self.findings.use_flow();
        let Some(Value::Const(Const::Str(cmd))) = args.get(0, "name") else {
            self.report(
                Severity::Warning,
                "dynamic-subcommand",
                range,
                "cannot evaluate the sub-command's name".into(),
            );
            return Value::Unknown;
        };
        let cmd = cmd.to_string();
        let path = match &self.model.parsers[parent].subcommand {
            Some(parent_path) => format!("{parent_path} {cmd}"),
            None => cmd.clone(),
        };
        let child = self.new_parser(args, range, Some(path));
        if let Value::Parser(child_id) = child {
            let mut names = vec![cmd];
            if let Some(aliases) = args.keyword("aliases").and_then(|a| a.items(&self.budget)) {
                names.extend(aliases.iter().filter_map(|a| match a {
                    Value::Const(Const::Str(s)) => Some(s.to_string()),
                    _ => None,
                }));
            }
            for n in names {
                self.model.actions[action].subparsers.push((n, child_id));
            }
        }
        child
    }

    pub(super) fn add_subparsers(
        &mut self,
        parser: ParserId,
        args: &CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
        self.findings.use_flow();
        let string = |name: &str| match args.keyword(name) {
            Some(Value::Const(Const::Str(s))) => Some(s.to_string()),
            _ => None,
        };
        let title = string("title");
        let description = args.keyword("description");
        // argparse puts the action in its own group when a title or description is given.
        let group = if title.is_some() || description.is_some() {
            Some(title.unwrap_or_else(|| "subcommands".into()))
        } else {
            None
        };
        let help = args
            .keyword("help")
            .cloned()
            .map(|v| self.slot(&v, None, "dynamic-help", "help"));
        let metavar = args
            .keyword("metavar")
            .cloned()
            .map(|v| self.slot(&v, None, "dynamic-value", "metavar"));
        let required = args
            .keyword("required")
            .and_then(Value::truthy)
            .unwrap_or(false);
        let (line, column) = self.position(self.module(), self.anchor);
        match self.model.add_subparsers(
            parser,
            string("dest"),
            required,
            help,
            metavar,
            group,
            line,
            column,
            self.modules.display(self.module()),
        ) {
            Ok(action) => Value::Subparsers(parser, action),
            Err(e) => {
                self.report(
                    Severity::Error,
                    "argparse-error",
                    range,
                    format!("argparse would refuse this: {e}"),
                );
                Value::Unknown
            }
        }
    }

    pub(super) fn add_argument(
        &mut self,
        parser: ParserId,
        group: Option<String>,
        args: &CallArgs<'a>,
        range: TextRange,
    ) {
        let (line, column) = self.position(self.module(), self.anchor);
        let file = self.modules.display(self.module());
        let mut spec = ArgSpec {
            line,
            column,
            file,
            ..ArgSpec::default()
        };
        for (v, e) in &args.positional {
            if let Value::Const(Const::Str(s)) = v {
                spec.names.push(s.to_string());
            } else {
                let text = e.map_or_else(|| self.excerpt(range), |e| self.excerpt(e.range()));
                self.report(
                    Severity::Warning,
                    "dynamic-flag",
                    range,
                    format!("cannot evaluate the option name `{text}`; this argument is left out"),
                );
                return;
            }
        }
        for (k, v, e) in &args.keywords {
            match k.as_str() {
                "action" => spec.action = Some(self.action_name(v, *e, range)),
                "type" => spec.python_type = self.type_name(v, *e),
                "**" => self.report(
                    Severity::Warning,
                    "dynamic-value",
                    range,
                    format!("cannot evaluate the keywords in `{}`", self.excerpt(range)),
                ),
                "default" => {
                    let s = self.slot(v, *e, "dynamic-default", "default");
                    spec.keywords.push((k.clone(), s));
                }
                "choices" => {
                    let budget = &self.budget;
                    let items = v.items(budget).and_then(|i| {
                        i.iter()
                            .map(|v| v.to_const(budget))
                            .collect::<Option<Vec<_>>>()
                    });
                    let s = match items.and_then(|items| Const::list(items, budget)) {
                        Some(items) => {
                            let _ = budget.output(&items);
                            Slot::Known(items)
                        }
                        None => self.slot(&Value::Unknown, *e, "dynamic-choices", "choices"),
                    };
                    spec.keywords.push((k.clone(), s));
                }
                "help" => {
                    let s = self.slot(v, *e, "dynamic-help", "help text");
                    spec.keywords.push((k.clone(), s));
                }
                _ => {
                    let s = self.slot(v, *e, "dynamic-value", k);
                    spec.keywords.push((k.clone(), s));
                }
            }
        }
        if let Err(e) = self.model.add_argument(parser, group, &spec) {
            self.report(
                Severity::Error,
                "argparse-error",
                range,
                format!("argparse would refuse this argument: {e}"),
            );
        }
    }

    pub(super) fn action_name(
        &mut self,
        v: &Value<'a>,
        expr: Option<&'a ast::Expr>,
        range: TextRange,
    ) -> String {
        match v {
            Value::Const(Const::Str(s)) => s.to_string(),
            Value::External(n) => match &**n {
                "argparse.BooleanOptionalAction" => "boolean_optional".into(),
                "argparse._StoreAction" => "store".into(),
                "argparse._StoreTrueAction" => "store_true".into(),
                "argparse._StoreFalseAction" => "store_false".into(),
                "argparse._StoreConstAction" => "store_const".into(),
                "argparse._AppendAction" => "append".into(),
                "argparse._AppendConstAction" => "append_const".into(),
                "argparse._CountAction" => "count".into(),
                "argparse._ExtendAction" => "extend".into(),
                other => other.rsplit('.').next().unwrap_or(other).to_owned(),
            },
            Value::Class(c) => self.classes[*c].name.clone(),
            _ => {
                let text = expr.map_or_else(|| self.text(range), |e| self.text(e.range()));
                self.report(
                    Severity::Warning,
                    "dynamic-action",
                    range,
                    format!(
                        "cannot evaluate the action `{}`",
                        self.excerpt(expr.map_or(range, Ranged::range))
                    ),
                );
                text
            }
        }
    }

    pub(super) fn type_name(
        &mut self,
        v: &Value<'a>,
        expr: Option<&'a ast::Expr>,
    ) -> Option<String> {
        match v {
            Value::Const(Const::None) => None,
            Value::Builtin(b) => Some((*b).to_owned()),
            Value::External(n) => Some(n.rsplit('.').next().unwrap_or(n).to_owned()),
            Value::Function(f) | Value::Bound(_, f) => Some(f.def.name.id.to_string()),
            Value::Lambda => Some("lambda".into()),
            Value::Class(c) => Some(self.classes[*c].name.clone()),
            Value::FileType => Some("file".into()),
            _ => {
                // Name the callable by how it is written (`np.float32` -> `float32`).
                let e = expr?;
                let text = self.text(e.range());
                match e {
                    ast::Expr::Name(_) | ast::Expr::Attribute(_) => {
                        Some(text.rsplit('.').next().unwrap_or(&text).to_owned())
                    }
                    _ => {
                        self.report(
                            Severity::Warning,
                            "dynamic-type",
                            e.range(),
                            format!(
                                "cannot tell which callable `{}` is",
                                self.excerpt(e.range())
                            ),
                        );
                        None
                    }
                }
            }
        }
    }
}

/// The position `CPython` 3.11 gives a call: its start, except that a method call whose name is
/// on a later line than the start (`parser \\ .add_argument(...)`) is placed at the name.
pub(super) fn call_anchor(call: &ast::ExprCall, text: &str) -> TextRange {
    if let ast::Expr::Attribute(attr) = &*call.func {
        let start = call.range().start().to_usize();
        let name = attr.attr.range.start().to_usize();
        if text
            .get(start..name)
            .is_some_and(|between| between.contains('\n'))
        {
            return attr.attr.range;
        }
    }
    call.range()
}
