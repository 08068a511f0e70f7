//! Calls: arguments, the script's own functions and classes, outside functions the extractor
//! knows (`os.path.join`, `pathlib.Path`, ...), and methods.

use std::collections::{HashMap, HashSet};

use super::argparse_calls::call_anchor;
use super::builtins::{apply_mutation, builtin, const_method, dedent, is_mutation};
use super::{
    CallArgs, ClassId, Const, Flow, Func, Interp, MAX_CALL_DEPTH, Names, Scope, Value, ast,
};
use crate::argparse::value::{path_join, string};
use crate::parameter::Severity;
use crate::python::{Ranged, TextRange};

impl<'a> Interp<'a> {
    pub(super) fn eval_args(&mut self, arguments: &'a ast::Arguments) -> CallArgs<'a> {
        let mut args = CallArgs {
            positional: Vec::new(),
            keywords: Vec::new(),
        };
        for a in &arguments.args {
            if let ast::Expr::Starred(s) = a {
                let v = self.eval(&s.value);
                match v.items(&self.budget) {
                    Some(items) => args.positional.extend(items.into_iter().map(|v| (v, None))),
                    None => args.positional.push((Value::Unknown, Some(a))),
                }
            } else {
                let v = self.eval(a);
                args.positional.push((v, Some(a)));
            }
        }
        for k in &arguments.keywords {
            let v = self.eval(&k.value);
            match &k.arg {
                Some(name) => args.keywords.push((name.id.to_string(), v, Some(&k.value))),
                None => match v.dict_entries(&self.budget) {
                    Some(entries) => {
                        for (key, value) in entries {
                            if let Value::Const(Const::Str(key)) = key {
                                args.keywords.push((key.to_string(), value, None));
                            }
                        }
                    }
                    None => args
                        .keywords
                        .push(("**".into(), Value::Unknown, Some(&k.value))),
                },
            }
        }
        args
    }

    pub(super) fn eval_call(&mut self, call: &'a ast::ExprCall) -> Value<'a> {
        let callee = self.eval(&call.func);
        let args = self.eval_args(&call.arguments);
        let range = call.range();
        // In-place change of a named container (`FLAGS.append(...)`).
        if let (Value::Method(recv, method), ast::Expr::Attribute(attr)) = (&callee, &*call.func)
            && let ast::Expr::Name(n) = &*attr.value
            && is_mutation(recv, method)
        {
            let method = method.clone();
            drop(callee);
            self.change(n.id.as_str(), |value, budget| {
                apply_mutation(value, &method, &args, budget)
            });
            return Value::Const(Const::None);
        }
        self.anchor = call_anchor(call, self.modules.source_text(self.module()));
        self.call(callee, args, range)
    }

    pub(super) fn call(
        &mut self,
        callee: Value<'a>,
        args: CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
        match callee {
            Value::Function(f) => {
                self.call_function(f, args.positional, &args.keywords, Some(range))
            }
            Value::Bound(this, f) => {
                let mut positional = vec![((*this).clone(), None)];
                positional.extend(args.positional);
                self.call_function(f, positional, &args.keywords, Some(range))
            }
            Value::Class(c) => self.instantiate(c, args, range),
            Value::Builtin(name) => builtin(name, &args, &self.budget).unwrap_or(Value::Unknown),
            Value::External(name) => self.call_external(&name, &args, range),
            Value::Method(recv, name) => self.call_method(&recv, &name, &args, range),
            _ => {
                if args.any_parser() {
                    self.unresolved_helper(range, None);
                }
                Value::Unknown
            }
        }
    }

    pub(super) fn call_function(
        &mut self,
        f: Func<'a>,
        positional: Vec<(Value<'a>, Option<&'a ast::Expr>)>,
        keywords: &[(String, Value<'a>, Option<&'a ast::Expr>)],
        range: Option<TextRange>,
    ) -> Value<'a> {
        if self.call_depth >= MAX_CALL_DEPTH {
            if let Some(range) = range {
                self.report(
                    Severity::Warning,
                    "recursion-limit",
                    range,
                    "calls nested too deeply to follow".into(),
                );
            }
            return Value::Unknown;
        }
        self.called.insert(std::ptr::from_ref(f.def));
        // The arguments carry what influenced the call; each parameter is bound with it.
        let caller_flow = self.findings.take_flow();
        self.findings.read(&caller_flow);
        let params = &f.def.parameters;
        let mut locals = Names::default();
        let mut positional = positional.into_iter().map(|(v, _)| v);
        // Defaults are evaluated in the function's module.
        self.frames.push(Scope::Module(f.module));
        let bind = |interp: &mut Self, locals: &mut Names<'a>, name: &str, v: Value<'a>| {
            locals.set(name, v, interp.findings.flow());
        };
        // A parameter's keyword argument, else its default.
        let by_name = |interp: &mut Self, p: &'a ast::ParameterWithDefault| {
            let name = p.parameter.name.id.as_str();
            keywords
                .iter()
                .find(|(k, ..)| k == name)
                .map(|(_, v, _)| v.clone())
                .or_else(|| p.default.as_ref().map(|d| interp.eval(d)))
                .unwrap_or(Value::Unknown)
        };
        for p in params.posonlyargs.iter().chain(&params.args) {
            let v = match positional.next() {
                Some(v) => v,
                None => by_name(self, p),
            };
            bind(self, &mut locals, p.parameter.name.id.as_str(), v);
        }
        if let Some(var) = &params.vararg {
            let rest = Value::seq(positional.collect(), true, &self.budget);
            bind(self, &mut locals, var.name.id.as_str(), rest);
        }
        for p in &params.kwonlyargs {
            let v = by_name(self, p);
            bind(self, &mut locals, p.parameter.name.id.as_str(), v);
        }
        if let Some(kw) = &params.kwarg {
            let named: HashSet<&str> = params
                .posonlyargs
                .iter()
                .chain(&params.args)
                .chain(&params.kwonlyargs)
                .map(|p| p.parameter.name.id.as_str())
                .collect();
            let rest = keywords
                .iter()
                .filter(|(k, ..)| !named.contains(k.as_str()))
                .map(|(k, v, _)| (Value::str(k), v.clone()))
                .collect();
            let rest = Value::dict(rest, &self.budget);
            bind(self, &mut locals, kw.name.id.as_str(), rest);
        }
        self.frames.pop();
        self.frames.push(Scope::Function {
            module: f.module,
            locals,
        });
        self.call_depth += 1;
        let flow = self.exec_block(&f.def.body);
        self.call_depth -= 1;
        self.frames.pop();
        // What the return statement read reaches the caller with the value.
        self.findings.restore_flow(caller_flow);
        match flow {
            Flow::Return(v) => {
                if let Value::Parser(p) = v {
                    self.returned_parsers.push(p);
                }
                v
            }
            _ => Value::Const(Const::None),
        }
    }

    fn instantiate(&mut self, class: ClassId, args: CallArgs<'a>, range: TextRange) -> Value<'a> {
        // A subclass of ArgumentParser builds a parser from the same keywords.
        // Its `__init__` runs with `self` as that parser, so arguments it adds are kept; the
        // `super().__init__(...)` inside is approximated by the call's own keywords.
        if self.class_has_external_base(class, "argparse.ArgumentParser") {
            let parser = self.new_parser(&args, range, None);
            if let (Value::Parser(_), Some(Value::Function(init))) =
                (&parser, self.class_attr(class, "__init__"))
            {
                let mut positional = vec![(parser.clone(), None)];
                positional.extend(args.positional);
                self.call_function(init, positional, &args.keywords, Some(range));
            }
            return parser;
        }
        let id = self.instances.len();
        self.instances.push((class, HashMap::new()));
        if let Some(Value::Function(init)) = self.class_attr(class, "__init__") {
            let mut positional = vec![(Value::Instance(id), None)];
            positional.extend(args.positional);
            self.call_function(init, positional, &args.keywords, Some(range));
        }
        Value::Instance(id)
    }

    fn class_has_external_base(&self, class: ClassId, name: &str) -> bool {
        // Bases are classes defined before this one, so the walk ends.
        self.classes[class].bases.iter().any(|b| match b {
            Value::External(n) => &**n == name,
            Value::Class(c) if *c < class => self.class_has_external_base(*c, name),
            _ => false,
        })
    }

    fn call_external(&mut self, name: &str, args: &CallArgs<'a>, range: TextRange) -> Value<'a> {
        let budget = &self.budget;
        let str_arg = |i: usize| match args.positional.get(i).map(|(v, _)| v) {
            Some(Value::Const(Const::Str(s) | Const::Path(s))) => Some(s.clone()),
            _ => None,
        };
        let text = |s: String| string(s, budget).map_or(Value::Unknown, Value::Const);
        match name {
            "argparse.ArgumentParser" => self.new_parser(args, range, None),
            "argparse.FileType" => Value::FileType,
            "os.environ.get" | "os.getenv" => {
                let key = str_arg(0).map_or_else(|| "?".to_owned(), |k| k.to_string());
                let default = args
                    .get(1, "default")
                    .cloned()
                    .unwrap_or(Value::Const(Const::None));
                self.note(
                    Severity::Info,
                    "env-default",
                    range,
                    format!(
                        "`{}` depends on the environment variable `{key}`; using its fallback",
                        self.excerpt(range)
                    ),
                );
                default
            }
            "os.path.join"
            | "pathlib.Path"
            | "pathlib.PurePath"
            | "pathlib.PosixPath"
            | "pathlib.PurePosixPath" => {
                let parts: Option<Vec<_>> = (0..args.positional.len()).map(str_arg).collect();
                let Some(parts) = parts else {
                    return Value::Unknown;
                };
                let len = parts.iter().map(|p| p.len() + 1).sum();
                if budget.value(len).is_none() {
                    return Value::Unknown;
                }
                let joined = parts
                    .iter()
                    .fold(String::new(), |acc, x| path_join(&acc, x));
                if name == "os.path.join" {
                    Value::str(&joined)
                } else if joined.is_empty() {
                    Value::Const(Const::Path(".".into()))
                } else {
                    Value::Const(Const::Path(joined.into()))
                }
            }
            "os.path.basename" => str_arg(0).map_or(Value::Unknown, |s| {
                Value::str(s.rsplit('/').next().unwrap_or(""))
            }),
            "os.path.dirname" => str_arg(0).map_or(Value::Unknown, |s| {
                Value::str(s.rfind('/').map_or("", |i| &s[..i]))
            }),
            "textwrap.dedent" => str_arg(0).map_or(Value::Unknown, |s| text(dedent(&s))),
            // `partial(f, ...)` is named after the function it wraps.
            "functools.partial" => args
                .positional
                .first()
                .map_or(Value::Unknown, |(v, _)| v.clone()),
            _ => {
                if args.any_parser() {
                    self.unresolved_helper(range, Some(name));
                }
                Value::Unknown
            }
        }
    }

    fn call_method(
        &mut self,
        recv: &Value<'a>,
        name: &str,
        args: &CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
        match (recv, name) {
            (Value::Parser(p), _) => self.parser_method(*p, None, name, args, range),
            (Value::Group(g), _) => {
                let group = &self.model.groups[*g];
                let (parser, title) = (group.parser, group.title.clone());
                self.parser_method(parser, Some(&(*g, title)), name, args, range)
            }
            (Value::Subparsers(parent, action), "add_parser") => {
                self.add_parser(*parent, *action, args, range)
            }
            (Value::Const(_) | Value::List(_) | Value::Dict(_) | Value::Tuple(_), _) => {
                const_method(recv, name, args, &self.budget).unwrap_or(Value::Unknown)
            }
            _ => {
                if args.any_parser() {
                    self.unresolved_helper(range, None);
                }
                Value::Unknown
            }
        }
    }

    /// A call that receives a parser and cannot be followed: the arguments it adds are
    /// missing, and whatever made the callee unknown (an import that failed) matters.
    fn unresolved_helper(&mut self, range: TextRange, name: Option<&str>) {
        self.findings.use_flow();
        let callee = name.map_or_else(|| self.excerpt(range), str::to_owned);
        self.report(
            Severity::Warning,
            "unresolved-helper",
            range,
            format!(
                "cannot follow `{callee}`, which receives a parser; arguments it adds are missing"
            ),
        );
    }
}
