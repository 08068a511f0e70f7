//! Calls: arguments, the script's own functions and classes, outside functions the extractor
//! knows (`os.path.join`, `pathlib.Path`, ...), and methods.

use super::{
    CallArgs, ClassId, Const, Flow, Func, HashMap, HashSet, Interp, MAX_CALL_DEPTH, Ranged, Scope,
    Severity, TextRange, Value, ast, builtin, call_anchor, const_method, dedent, mutate, path_join,
};

impl<'a> Interp<'a> {
    // ---- calls -------------------------------------------------------------------------------

    pub(super) fn eval_args(&mut self, arguments: &'a ast::Arguments) -> CallArgs<'a> {
        let mut args = CallArgs {
            positional: Vec::new(),
            keywords: Vec::new(),
        };
        for a in &arguments.args {
            if let ast::Expr::Starred(s) = a {
                match self.eval(&s.value).items() {
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
                None => match v.dict_entries() {
                    Some(entries) => {
                        for (key, value) in entries {
                            if let Some(Const::Str(key)) = key.to_const() {
                                args.keywords.push((key, value, None));
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
        // In-place mutation of a named container (`FLAGS.append(...)`).
        if let (Value::Method(recv, method), ast::Expr::Attribute(attr)) = (&callee, &*call.func)
            && let ast::Expr::Name(n) = &*attr.value
            && let Some(updated) = mutate(recv, method, &args)
        {
            self.rebind(n.id.as_str(), updated);
            return Value::Const(Const::None);
        }
        self.anchor = call_anchor(call, &self.modules[self.module()].src.text);
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
                let mut positional = vec![(*this, None)];
                positional.extend(args.positional);
                self.call_function(f, positional, &args.keywords, Some(range))
            }
            Value::Class(c) => self.instantiate(c, args, range),
            Value::Builtin(name) => builtin(name, &args).unwrap_or(Value::Unknown),
            Value::External(name) => self.call_external(&name, &args, range),
            Value::Method(recv, name) => self.call_method(&recv, &name, &args, range),
            _ => {
                if args.any_parser() {
                    self.report(Severity::Warning, "unresolved-helper", range, format!("cannot follow `{}`, which receives a parser; arguments it adds are missing", self.excerpt(range)));
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
        let params = &f.def.parameters;
        let mut locals = HashMap::new();
        let mut positional = positional.into_iter().map(|(v, _)| v);
        // Defaults are evaluated in the function's module.
        self.frames.push(Scope::Module(f.module));
        for p in params.posonlyargs.iter().chain(&params.args) {
            let name = p.parameter.name.id.as_str();
            let v = positional
                .next()
                .or_else(|| {
                    keywords
                        .iter()
                        .find(|(k, ..)| k == name)
                        .map(|(_, v, _)| v.clone())
                })
                .or_else(|| p.default.as_ref().map(|d| self.eval(d)))
                .unwrap_or(Value::Unknown);
            locals.insert(name.to_owned(), v);
        }
        if let Some(var) = &params.vararg {
            locals.insert(
                var.name.id.to_string(),
                Value::seq(positional.collect(), true),
            );
        }
        for p in &params.kwonlyargs {
            let name = p.parameter.name.id.as_str();
            let v = keywords
                .iter()
                .find(|(k, ..)| k == name)
                .map(|(_, v, _)| v.clone())
                .or_else(|| p.default.as_ref().map(|d| self.eval(d)))
                .unwrap_or(Value::Unknown);
            locals.insert(name.to_owned(), v);
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
                .map(|(k, v, _)| (Value::Const(Const::Str(k.clone())), v.clone()))
                .collect();
            locals.insert(kw.name.id.to_string(), Value::dict(rest));
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

    pub(super) fn instantiate(
        &mut self,
        class: ClassId,
        args: CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
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

    pub(super) fn class_has_external_base(&self, class: ClassId, name: &str) -> bool {
        self.classes[class].bases.iter().any(|b| match b {
            Value::External(n) => n == name,
            Value::Class(c) => self.class_has_external_base(*c, name),
            _ => false,
        })
    }

    pub(super) fn call_external(
        &mut self,
        name: &str,
        args: &CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
        let str_arg = |i: usize| {
            args.positional
                .get(i)
                .and_then(|(v, _)| v.to_const())
                .and_then(|c| match c {
                    Const::Str(s) | Const::Path(s) => Some(s),
                    _ => None,
                })
        };
        match name {
            "argparse.ArgumentParser" => self.new_parser(args, range, None),
            "argparse.FileType" => Value::FileType,
            "os.environ.get" | "os.getenv" => {
                let key = str_arg(0).unwrap_or_else(|| "?".into());
                let default = args
                    .get(1, "default")
                    .cloned()
                    .unwrap_or(Value::Const(Const::None));
                self.report(
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
            "os.path.join" => {
                let parts: Option<Vec<String>> = (0..args.positional.len()).map(str_arg).collect();
                parts.map_or(Value::Unknown, |p| {
                    Value::Const(Const::Str(
                        p.iter().fold(String::new(), |acc, x| path_join(&acc, x)),
                    ))
                })
            }
            "os.path.basename" => str_arg(0).map_or(Value::Unknown, |s| {
                Value::Const(Const::Str(s.rsplit('/').next().unwrap_or("").to_owned()))
            }),
            "os.path.dirname" => str_arg(0).map_or(Value::Unknown, |s| {
                Value::Const(Const::Str(
                    s.rfind('/').map_or(String::new(), |i| s[..i].to_owned()),
                ))
            }),
            "pathlib.Path" | "pathlib.PurePath" | "pathlib.PosixPath" | "pathlib.PurePosixPath" => {
                let parts: Option<Vec<String>> = (0..args.positional.len()).map(str_arg).collect();
                parts.map_or(Value::Unknown, |p| {
                    let joined = p.iter().fold(String::new(), |acc, x| path_join(&acc, x));
                    Value::Const(Const::Path(if joined.is_empty() {
                        ".".into()
                    } else {
                        joined
                    }))
                })
            }
            "textwrap.dedent" => {
                str_arg(0).map_or(Value::Unknown, |s| Value::Const(Const::Str(dedent(&s))))
            }
            // `partial(f, ...)` is named after the function it wraps.
            "functools.partial" => args
                .positional
                .first()
                .map_or(Value::Unknown, |(v, _)| v.clone()),
            _ => {
                if args.any_parser() {
                    self.report(Severity::Warning, "unresolved-helper", range, format!("cannot follow `{name}`, which receives a parser; arguments it adds are missing"));
                }
                Value::Unknown
            }
        }
    }

    pub(super) fn call_method(
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
                let Some(Const::Str(cmd)) = args.get(0, "name").and_then(Value::to_const) else {
                    self.report(
                        Severity::Warning,
                        "dynamic-subcommand",
                        range,
                        "cannot evaluate the sub-command's name".into(),
                    );
                    return Value::Unknown;
                };
                let path = match &self.model.parsers[*parent].subcommand {
                    Some(parent_path) => format!("{parent_path} {cmd}"),
                    None => cmd.clone(),
                };
                let (parent, action) = (*parent, *action);
                let child = self.new_parser(args, range, Some(path));
                if let Value::Parser(child_id) = child {
                    let mut names = vec![cmd];
                    if let Some(aliases) = args.keyword("aliases").and_then(Value::items) {
                        names.extend(
                            aliases
                                .iter()
                                .filter_map(|a| a.to_const()?.as_str().map(str::to_owned)),
                        );
                    }
                    for n in names {
                        self.model.actions[action].subparsers.push((n, child_id));
                    }
                }
                let _ = parent;
                child
            }
            (Value::Const(_) | Value::List(_) | Value::Dict(_) | Value::Tuple(_), _) => {
                const_method(recv, name, args).unwrap_or(Value::Unknown)
            }
            _ => {
                if args.any_parser() {
                    self.report(Severity::Warning, "unresolved-helper", range, format!("cannot follow `{}`, which receives a parser; arguments it adds are missing", self.excerpt(range)));
                }
                Value::Unknown
            }
        }
    }
}
