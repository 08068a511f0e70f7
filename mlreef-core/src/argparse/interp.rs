//! A small abstract interpreter: runs a script's statements far enough to build its parsers,
//! knowing only constants, the repository's own modules and argparse.
//!
//! It stops where `CPython`'s argparse would hand control back to the program: at the first
//! `parse_args` (a `parse_known_args` pre-parser lets it continue). Anything it cannot know is
//! `Value::Unknown`, and what that hides from the parameters is reported as a diagnostic.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use typed_arena::Arena;

use super::model::{ArgSpec, GroupId, Model, ParserConfig, ParserId, SUPPRESS, Slot};
use super::value::{BinOp, Const, MAX_ITEMS, format_spec, path_join};
use super::{Error, Extraction, Options, decode_source};
use crate::parameter::{Diagnostic, Severity};
use crate::python::{ParsedModule, Ranged, TextRange, ast, parse_module, with_stack_for};

/// Deeper expressions than this are not evaluated (`CPython` refuses far shallower ones).
const MAX_EVAL_DEPTH: usize = 400;
/// Nested calls into the script's own functions.
const MAX_CALL_DEPTH: usize = 40;
/// Iterations of one loop, and statements executed in all, before we give up on a script.
const MAX_LOOP_ITERATIONS: usize = 10_000;
const MAX_STEPS: usize = 2_000_000;
/// Helper modules larger than this are not read.
const MAX_MODULE_BYTES: u64 = 4 << 20;

type ModId = usize;
type ClassId = usize;
type InstId = usize;

/// The names `from argparse import *` binds.
const ARGPARSE_NAMES: &[&str] = &[
    "ArgumentParser",
    "Action",
    "BooleanOptionalAction",
    "FileType",
    "Namespace",
    "SUPPRESS",
    "OPTIONAL",
    "ZERO_OR_MORE",
    "ONE_OR_MORE",
    "REMAINDER",
    "PARSER",
    "HelpFormatter",
    "RawDescriptionHelpFormatter",
    "RawTextHelpFormatter",
    "ArgumentDefaultsHelpFormatter",
    "MetavarTypeHelpFormatter",
    "ArgumentError",
    "ArgumentTypeError",
];

const BUILTINS: &[&str] = &[
    "int",
    "float",
    "str",
    "bool",
    "list",
    "tuple",
    "dict",
    "set",
    "len",
    "range",
    "sorted",
    "min",
    "max",
    "abs",
    "round",
    "type",
    "zip",
    "enumerate",
    "reversed",
    "open",
    "complex",
    "print",
    "isinstance",
    "getattr",
    "hasattr",
    "super",
    "frozenset",
    "sum",
    "any",
    "all",
];

struct SourceModule {
    /// Shown in diagnostics about helper modules (relative to the repository).
    display: Option<String>,
    path: Option<PathBuf>,
    text: String,
    parsed: ParsedModule,
    /// The dotted name (`__main__` for the script itself) and the package it is in.
    name: String,
    package: Vec<String>,
}

#[derive(Clone, Copy)]
enum FuncKind {
    Plain,
    Static,
    ClassMethod,
}

#[derive(Clone, Copy)]
struct Func<'a> {
    def: &'a ast::StmtFunctionDef,
    module: ModId,
    kind: FuncKind,
}

#[derive(Clone)]
enum Value<'a> {
    Const(Const),
    Unknown,
    /// Something outside the repository, by dotted name (`argparse.ArgumentParser`, `torch`).
    External(String),
    Module(ModId),
    Function(Func<'a>),
    Lambda,
    Builtin(&'static str),
    Class(ClassId),
    Instance(InstId),
    /// A function bound to its first argument (`self` or `cls`).
    Bound(Box<Value<'a>>, Func<'a>),
    List(Vec<Value<'a>>),
    Tuple(Vec<Value<'a>>),
    Dict(Vec<(Value<'a>, Value<'a>)>),
    Parser(ParserId),
    Group(GroupId),
    Subparsers(ParserId, usize),
    /// What `parse_args` returns: with no command-line arguments, each dest holds its default.
    Namespace(ParserId),
    FileType,
    /// `receiver.name`, waiting to be called.
    Method(Box<Value<'a>>, String),
}

impl<'a> Value<'a> {
    fn to_const(&self) -> Option<Const> {
        match self {
            Value::Const(c) => Some(c.clone()),
            Value::List(v) => v
                .iter()
                .map(Value::to_const)
                .collect::<Option<_>>()
                .map(Const::List),
            Value::Tuple(v) => v
                .iter()
                .map(Value::to_const)
                .collect::<Option<_>>()
                .map(Const::Tuple),
            Value::Dict(v) => v
                .iter()
                .map(|(k, x)| Some((k.to_const()?, x.to_const()?)))
                .collect::<Option<_>>()
                .map(Const::Dict),
            _ => None,
        }
    }

    fn from_const(c: Const) -> Self {
        Value::Const(c)
    }

    /// A list or tuple literal: a constant when all its items are.
    fn seq(items: Vec<Value<'a>>, tuple: bool) -> Self {
        let v = if tuple {
            Value::Tuple(items)
        } else {
            Value::List(items)
        };
        v.to_const().map_or(v, Value::Const)
    }

    fn dict(items: Vec<(Value<'a>, Value<'a>)>) -> Self {
        let v = Value::Dict(items);
        v.to_const().map_or(v, Value::Const)
    }

    /// The items `for x in value` would see.
    fn items(&self) -> Option<Vec<Value<'a>>> {
        match self {
            Value::Const(c) => c
                .iter_items()
                .map(|v| v.into_iter().map(Value::Const).collect()),
            Value::List(v) | Value::Tuple(v) => Some(v.clone()),
            Value::Dict(v) => Some(v.iter().map(|(k, _)| k.clone()).collect()),
            _ => None,
        }
    }

    fn dict_entries(&self) -> Option<Vec<(Value<'a>, Value<'a>)>> {
        match self {
            Value::Const(Const::Dict(v)) => Some(
                v.iter()
                    .map(|(k, x)| (Value::Const(k.clone()), Value::Const(x.clone())))
                    .collect(),
            ),
            Value::Dict(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn truthy(&self) -> Option<bool> {
        match self {
            Value::Const(c) => Some(c.truthy()),
            Value::List(v) | Value::Tuple(v) => Some(!v.is_empty()),
            Value::Dict(v) => Some(!v.is_empty()),
            Value::Unknown | Value::External(_) | Value::Namespace(_) => None,
            _ => Some(true),
        }
    }

    fn holds_parser(&self) -> bool {
        match self {
            Value::Parser(_) | Value::Group(_) | Value::Subparsers(..) => true,
            Value::List(v) | Value::Tuple(v) => v.iter().any(Value::holds_parser),
            _ => false,
        }
    }
}

enum Flow<'a> {
    Normal,
    Return(Value<'a>),
    Break,
    Continue,
}

enum Scope<'a> {
    Module(ModId),
    Function {
        module: ModId,
        locals: HashMap<String, Value<'a>>,
    },
    Class {
        module: ModId,
        class: ClassId,
    },
}

impl Scope<'_> {
    fn module(&self) -> ModId {
        match self {
            Scope::Module(m)
            | Scope::Function { module: m, .. }
            | Scope::Class { module: m, .. } => *m,
        }
    }
}

struct ClassState<'a> {
    name: String,
    attrs: HashMap<String, Value<'a>>,
    bases: Vec<Value<'a>>,
}

struct ModState<'a> {
    src: &'a SourceModule,
    globals: HashMap<String, Value<'a>>,
}

struct Interp<'a> {
    arena: &'a Arena<SourceModule>,
    modules: Vec<ModState<'a>>,
    by_path: HashMap<PathBuf, Option<ModId>>,
    repo: Option<PathBuf>,
    canonical_repo: Option<PathBuf>,
    roots: Vec<PathBuf>,
    classes: Vec<ClassState<'a>>,
    instances: Vec<(ClassId, HashMap<String, Value<'a>>)>,
    model: Model,
    parse_calls: Vec<ParserId>,
    returned_parsers: Vec<ParserId>,
    diagnostics: Vec<Diagnostic>,
    reported: HashSet<(ModId, u32, &'static str)>,
    called: HashSet<*const ast::StmtFunctionDef>,
    frames: Vec<Scope<'a>>,
    stopped: bool,
    /// Where the call being made is reported: `CPython`'s position for it.
    anchor: TextRange,
    depth: usize,
    call_depth: usize,
    steps: usize,
}

pub(crate) fn run(source: &str, options: &Options) -> Result<Extraction, Error> {
    with_stack_for(source.len(), || {
        let parsed = parse_module(source).map_err(|e| Error::Syntax {
            path: options.path.clone(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
        let arena = Arena::new();
        let entry = arena.alloc(SourceModule {
            display: None,
            path: options.path.clone(),
            text: source.to_owned(),
            parsed,
            name: "__main__".into(),
            package: Vec::new(),
        });
        let mut interp = Interp::new(&arena, options);
        Ok(interp.run_entry(entry))
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl<'a> Interp<'a> {
    fn new(arena: &'a Arena<SourceModule>, options: &Options) -> Self {
        // Absolute but not canonical: resolving symlinks costs a system call per path
        // component, so it waits until an import really finds a file (see `canonical_repo`).
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let script_dir = options.path.as_deref().and_then(Path::parent).map(|p| {
            absolute(if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            })
        });
        let repo = options
            .repo
            .as_deref()
            .map(absolute)
            .or_else(|| script_dir.clone());
        // Python puts the script's folder first on sys.path; the repository root comes next
        // so that `from utils.args import ...` works for scripts in subfolders.
        let mut roots: Vec<PathBuf> = script_dir.into_iter().chain(repo.clone()).collect();
        roots.dedup();
        Self {
            arena,
            modules: Vec::new(),
            by_path: HashMap::new(),
            repo,
            canonical_repo: None,
            roots,
            classes: Vec::new(),
            instances: Vec::new(),
            model: Model::default(),
            parse_calls: Vec::new(),
            returned_parsers: Vec::new(),
            diagnostics: Vec::new(),
            reported: HashSet::new(),
            called: HashSet::new(),
            frames: Vec::new(),
            stopped: false,
            anchor: TextRange::default(),
            depth: 0,
            call_depth: 0,
            steps: 0,
        }
    }

    fn run_entry(&mut self, entry: &'a SourceModule) -> Extraction {
        let id = self.add_module(entry);
        self.exec_module(id);
        let chosen = self.choose_parser();
        let parameters = chosen.map(|p| self.model.parameters(p)).unwrap_or_default();
        let mut diagnostics = std::mem::take(&mut self.diagnostics);
        for p in &parameters {
            if p.python_type.as_deref() == Some("bool") {
                diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "type-bool".into(),
                    message: format!(
                        "`{}` uses type=bool: any non-empty string (even `False`) is true; use action=\"store_true\" or argparse.BooleanOptionalAction",
                        p.name.as_deref().unwrap_or_default()
                    ),
                    line: p.line,
                    column: p.column,
                    file: None,
                });
            }
        }
        diagnostics.sort_by_key(|d| (d.file.is_some(), d.line, d.column));
        Extraction {
            parameters,
            diagnostics,
        }
    }

    /// The parser whose parse call the program reached last; without one, a parser some
    /// function returns, else the one with the most arguments.
    fn choose_parser(&mut self) -> Option<ParserId> {
        if let Some(&p) = self.parse_calls.last() {
            return Some(p);
        }
        // Nothing called parse_args at module level: try the functions nobody called, the way
        // a `get_parser()` meant for another entry point would be used.
        self.stopped = false;
        let entry = self.modules[0].src;
        for stmt in entry.parsed.body() {
            if let ast::Stmt::FunctionDef(def) = stmt {
                if self.called.contains(&std::ptr::from_ref(def)) || !self.parse_calls.is_empty() {
                    continue;
                }
                let f = Func {
                    def,
                    module: 0,
                    kind: FuncKind::Plain,
                };
                self.call_function(f, Vec::new(), &[], None);
                self.stopped = false;
            }
        }
        let chosen = self
            .parse_calls
            .last()
            .or(self.returned_parsers.last())
            .copied()
            .or_else(|| {
                (0..self.model.parsers.len())
                    .filter(|&p| self.model.parsers[p].subcommand.is_none())
                    .max_by_key(|&p| self.model.parsers[p].actions.len())
            });
        let (line, column) = (1, 1);
        match chosen {
            None => self.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                code: "no-parser".into(),
                message: "no argparse parser found in the script".into(),
                line,
                column,
                file: None,
            }),
            Some(_) if self.parse_calls.is_empty() => self.diagnostics.push(Diagnostic {
                severity: Severity::Info,
                code: "no-parse-call".into(),
                message: "the script never calls parse_args(); reporting the parser it builds"
                    .into(),
                line,
                column,
                file: None,
            }),
            Some(_) => {}
        }
        chosen
    }

    fn add_module(&mut self, src: &'a SourceModule) -> ModId {
        let mut globals = HashMap::new();
        globals.insert(
            "__name__".to_owned(),
            Value::Const(Const::Str(src.name.clone())),
        );
        self.modules.push(ModState { src, globals });
        self.modules.len() - 1
    }

    fn exec_module(&mut self, id: ModId) {
        self.frames.push(Scope::Module(id));
        let body = self.modules[id].src.parsed.body();
        let _ = self.exec_block(body);
        self.frames.pop();
    }

    // ---- diagnostics -------------------------------------------------------------------

    fn module(&self) -> ModId {
        self.frames.last().map_or(0, Scope::module)
    }

    fn position(&self, module: ModId, range: TextRange) -> (usize, usize) {
        let src = self.modules[module].src;
        src.parsed
            .lines()
            .position(&src.text, range.start().to_usize())
    }

    /// Source text for a message: long expressions are shortened, the full text stays in
    /// `default_expr`.
    fn excerpt(&self, range: TextRange) -> String {
        const MAX: usize = 80;
        let text = self.text(range);
        match text.char_indices().nth(MAX) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text,
        }
    }

    fn text(&self, range: TextRange) -> String {
        let src = self.modules[self.module()].src;
        src.text
            .get(range.start().to_usize()..range.end().to_usize())
            .unwrap_or("")
            .to_owned()
    }

    fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        range: TextRange,
        message: String,
    ) {
        let module = self.module();
        // Loops and repeated calls reach the same code many times; say it once.
        if !self.reported.insert((module, range.start().to_u32(), code)) {
            return;
        }
        let (line, column) = self.position(module, range);
        self.diagnostics.push(Diagnostic {
            severity,
            code: code.into(),
            message,
            line,
            column,
            file: self.modules[module].src.display.clone(),
        });
    }

    // ---- names ---------------------------------------------------------------------------

    fn lookup(&self, name: &str) -> Value<'a> {
        if let Some(scope) = self.frames.last() {
            match scope {
                Scope::Function { locals, .. } => {
                    if let Some(v) = locals.get(name) {
                        return v.clone();
                    }
                }
                Scope::Class { class, .. } => {
                    if let Some(v) = self.classes[*class].attrs.get(name) {
                        return v.clone();
                    }
                }
                Scope::Module(_) => {}
            }
        }
        if let Some(v) = self.modules[self.module()].globals.get(name) {
            return v.clone();
        }
        match name {
            "__file__" => Value::Unknown,
            _ => BUILTINS
                .iter()
                .find(|b| **b == name)
                .map_or(Value::Unknown, |b| Value::Builtin(b)),
        }
    }

    fn bind(&mut self, name: &str, value: Value<'a>) {
        let module = self.module();
        match self.frames.last_mut() {
            Some(Scope::Function { locals, .. }) => {
                locals.insert(name.to_owned(), value);
            }
            Some(Scope::Class { class, .. }) => {
                let class = *class;
                self.classes[class].attrs.insert(name.to_owned(), value);
            }
            _ => {
                self.modules[module].globals.insert(name.to_owned(), value);
            }
        }
    }

    /// Gives an existing name a new value where it is defined: mutating a global container
    /// from inside a function changes the global, as Python's objects would.
    fn rebind(&mut self, name: &str, value: Value<'a>) {
        let module = self.module();
        match self.frames.last_mut() {
            Some(Scope::Function { locals, .. }) if locals.contains_key(name) => {
                locals.insert(name.to_owned(), value);
            }
            Some(Scope::Class { class, .. }) if self.classes[*class].attrs.contains_key(name) => {
                let class = *class;
                self.classes[class].attrs.insert(name.to_owned(), value);
            }
            _ if self.modules[module].globals.contains_key(name) => {
                self.modules[module].globals.insert(name.to_owned(), value);
            }
            _ => self.bind(name, value),
        }
    }

    fn assign(&mut self, target: &'a ast::Expr, value: Value<'a>) {
        match target {
            ast::Expr::Name(n) => self.bind(n.id.as_str(), value),
            ast::Expr::Tuple(ast::ExprTuple { elts, .. })
            | ast::Expr::List(ast::ExprList { elts, .. }) => {
                match value.items().filter(|items| items.len() == elts.len()) {
                    Some(items) => {
                        for (t, v) in elts.iter().zip(items) {
                            self.assign(t, v);
                        }
                    }
                    None => {
                        for t in elts {
                            self.assign(t, Value::Unknown);
                        }
                    }
                }
            }
            ast::Expr::Starred(s) => self.assign(&s.value, Value::Unknown),
            ast::Expr::Attribute(attr) => {
                let owner = self.eval(&attr.value);
                match owner {
                    Value::Instance(i) => {
                        self.instances[i].1.insert(attr.attr.id.to_string(), value);
                    }
                    Value::Class(c) => {
                        self.classes[c]
                            .attrs
                            .insert(attr.attr.id.to_string(), value);
                    }
                    Value::Module(m) => {
                        self.modules[m]
                            .globals
                            .insert(attr.attr.id.to_string(), value);
                    }
                    _ => {}
                }
            }
            ast::Expr::Subscript(sub) => {
                // `CONFIG["lr"] = 0.1` changes what later reads of CONFIG see.
                if let ast::Expr::Name(n) = &*sub.value {
                    let container = self.lookup(n.id.as_str());
                    let key = self.eval(&sub.slice);
                    let updated = match container.dict_entries() {
                        Some(mut entries) if key.to_const().is_some() => {
                            let k = key.to_const();
                            match entries.iter_mut().find(|(x, _)| x.to_const() == k) {
                                Some(entry) => entry.1 = value,
                                None => entries.push((key, value)),
                            }
                            Value::dict(entries)
                        }
                        _ => Value::Unknown,
                    };
                    self.rebind(n.id.as_str(), updated);
                }
            }
            _ => {}
        }
    }

    // ---- statements ------------------------------------------------------------------------

    fn exec_block(&mut self, body: &'a [ast::Stmt]) -> Flow<'a> {
        for stmt in body {
            if self.stopped {
                return Flow::Normal;
            }
            self.steps += 1;
            if self.steps > MAX_STEPS {
                self.report(
                    Severity::Warning,
                    "too-complex",
                    stmt.range(),
                    "stopped following the script: it needs too many steps to evaluate".into(),
                );
                self.stopped = true;
                return Flow::Normal;
            }
            match self.exec(stmt) {
                Flow::Normal => {}
                other => return other,
            }
        }
        Flow::Normal
    }

    fn exec(&mut self, stmt: &'a ast::Stmt) -> Flow<'a> {
        use ast::Stmt;
        match stmt {
            Stmt::Expr(e) => {
                self.eval(&e.value);
            }
            Stmt::Assign(a) => {
                let v = self.eval(&a.value);
                for t in &a.targets {
                    self.assign(t, v.clone());
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(value) = &a.value {
                    let v = self.eval(value);
                    self.assign(&a.target, v);
                }
            }
            Stmt::AugAssign(a) => {
                let current = self.eval(&a.target);
                let rhs = self.eval(&a.value);
                let v = binary(a.op, &current, &rhs);
                self.assign(&a.target, v);
            }
            Stmt::FunctionDef(def) => {
                let kind =
                    def.decorator_list
                        .iter()
                        .fold(FuncKind::Plain, |k, d| match &d.expression {
                            ast::Expr::Name(n) if n.id.as_str() == "staticmethod" => {
                                FuncKind::Static
                            }
                            ast::Expr::Name(n) if n.id.as_str() == "classmethod" => {
                                FuncKind::ClassMethod
                            }
                            _ => k,
                        });
                let f = Func {
                    def,
                    module: self.module(),
                    kind,
                };
                self.bind(def.name.id.as_str(), Value::Function(f));
            }
            Stmt::ClassDef(def) => self.exec_class(def),
            Stmt::Return(r) => {
                let v = r
                    .value
                    .as_ref()
                    .map_or(Value::Const(Const::None), |e| self.eval(e));
                return Flow::Return(v);
            }
            Stmt::If(s) => return self.exec_if(s),
            Stmt::For(f) => return self.exec_for(f),
            Stmt::While(w) => {
                if self.eval(&w.test).truthy() != Some(false)
                    && let flow @ Flow::Return(_) = self.exec_block(&w.body)
                {
                    return flow;
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    self.eval(&item.context_expr);
                    if let Some(t) = &item.optional_vars {
                        self.assign(t, Value::Unknown);
                    }
                }
                return self.exec_block(&w.body);
            }
            Stmt::Try(t) => {
                let flow = self.exec_block(&t.body);
                if !matches!(flow, Flow::Normal) {
                    return flow;
                }
                let flow = self.exec_block(&t.orelse);
                if !matches!(flow, Flow::Normal) {
                    return flow;
                }
                return self.exec_block(&t.finalbody);
            }
            Stmt::Import(i) => self.exec_import(i),
            Stmt::ImportFrom(i) => self.exec_import_from(i),
            Stmt::Break(_) => return Flow::Break,
            Stmt::Continue(_) => return Flow::Continue,
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let ast::Expr::Name(n) = t {
                        self.bind(n.id.as_str(), Value::Unknown);
                    }
                }
            }
            _ => {}
        }
        Flow::Normal
    }

    fn exec_if(&mut self, s: &'a ast::StmtIf) -> Flow<'a> {
        let mut branches: Vec<(Option<&'a ast::Expr>, &'a [ast::Stmt])> =
            vec![(Some(&*s.test), &s.body)];
        for clause in &s.elif_else_clauses {
            branches.push((clause.test.as_ref(), &clause.body));
        }
        let mut unknown = false;
        for (test, body) in branches {
            let truth = match test {
                Some(t) => self.eval(t).truthy(),
                None => Some(true),
            };
            match truth {
                Some(true) if !unknown => return self.exec_block(body),
                Some(false) => {}
                // A condition we cannot decide: the arguments of every branch are possible,
                // so we follow them all.
                _ => {
                    unknown = true;
                    let before = self.model.actions.len();
                    let flow = self.exec_block(body);
                    if self.model.actions.len() > before {
                        self.report(
                            Severity::Info,
                            "conditional-argument",
                            s.test.range(),
                            format!(
                                "arguments are added under a condition that cannot be decided without running the script (`{}`); they are listed as if it held",
                                self.excerpt(test.map_or(s.test.range(), Ranged::range))
                            ),
                        );
                    }
                    if let Flow::Return(_) = flow {
                        return flow;
                    }
                }
            }
        }
        Flow::Normal
    }

    fn exec_for(&mut self, f: &'a ast::StmtFor) -> Flow<'a> {
        let iterable = self.eval(&f.iter);
        let Some(items) = iterable.items() else {
            // Unknown iterable: one pass with an unknown loop variable, so that arguments
            // added in the body are still reported (as dynamic).
            self.assign(&f.target, Value::Unknown);
            self.report(
                Severity::Info,
                "dynamic-loop",
                f.iter.range(),
                format!(
                    "cannot evaluate the loop over `{}`",
                    self.excerpt(f.iter.range())
                ),
            );
            return match self.exec_block(&f.body) {
                flow @ Flow::Return(_) => flow,
                _ => Flow::Normal,
            };
        };
        for item in items.into_iter().take(MAX_LOOP_ITERATIONS) {
            self.assign(&f.target, item);
            match self.exec_block(&f.body) {
                Flow::Break => return Flow::Normal,
                flow @ Flow::Return(_) => return flow,
                _ => {}
            }
            if self.stopped {
                return Flow::Normal;
            }
        }
        self.exec_block(&f.orelse)
    }

    fn exec_class(&mut self, def: &'a ast::StmtClassDef) {
        let bases: Vec<Value<'a>> = def
            .arguments
            .as_ref()
            .map(|a| a.args.iter().map(|b| self.eval(b)).collect())
            .unwrap_or_default();
        let id = self.classes.len();
        self.classes.push(ClassState {
            name: def.name.id.to_string(),
            attrs: HashMap::new(),
            bases,
        });
        let module = self.module();
        self.frames.push(Scope::Class { module, class: id });
        let _ = self.exec_block(&def.body);
        self.frames.pop();
        self.bind(def.name.id.as_str(), Value::Class(id));
    }

    // ---- imports ---------------------------------------------------------------------------

    fn exec_import(&mut self, i: &'a ast::StmtImport) {
        for alias in &i.names {
            let dotted = alias.name.id.as_str();
            let parts: Vec<&str> = dotted.split('.').collect();
            if let Some(asname) = &alias.asname {
                let v = self
                    .import_module(&parts)
                    .map_or_else(|| Value::External(dotted.to_owned()), Value::Module);
                self.bind(asname.id.as_str(), v);
            } else {
                // `import a.b` binds `a`; loading `a.b` makes `a.b` reachable as an attribute.
                let top = self.import_module(&parts[..1]);
                if top.is_some() && parts.len() > 1 {
                    let _ = self.import_module(&parts);
                }
                let v = top.map_or_else(|| Value::External(parts[0].to_owned()), Value::Module);
                self.bind(parts[0], v);
            }
        }
    }

    fn exec_import_from(&mut self, i: &'a ast::StmtImportFrom) {
        let module_name: Vec<String> = i
            .module
            .as_ref()
            .map(|m| m.id.as_str().split('.').map(str::to_owned).collect())
            .unwrap_or_default();
        let full: Vec<String> = if i.level > 0 {
            let package = &self.modules[self.module()].src.package;
            let up = i.level as usize - 1;
            // Python refuses a relative import above the top-level package; so do we, rather
            // than resolve it against the repository root.
            if package.is_empty() || up >= package.len() {
                self.report(
                    Severity::Warning,
                    "unresolved-import",
                    i.range(),
                    format!(
                        "`{}` goes above the top-level package",
                        self.excerpt(i.range())
                    ),
                );
                for alias in &i.names {
                    let name = alias.asname.as_ref().unwrap_or(&alias.name).id.as_str();
                    self.bind(name, Value::Unknown);
                }
                return;
            }
            package[..package.len() - up]
                .iter()
                .cloned()
                .chain(module_name)
                .collect()
        } else {
            module_name
        };
        let parts: Vec<&str> = full.iter().map(String::as_str).collect();
        let module = if parts.is_empty() {
            None
        } else {
            self.import_module(&parts)
        };
        for alias in &i.names {
            let name = alias.name.id.as_str();
            let bound = alias.asname.as_ref().map_or(name, |a| a.id.as_str());
            if name == "*" {
                match module {
                    Some(m) => {
                        let globals: Vec<(String, Value<'a>)> = self.modules[m]
                            .globals
                            .iter()
                            .filter(|(k, _)| !k.starts_with('_'))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        for (k, v) in globals {
                            self.bind(&k, v);
                        }
                    }
                    None if full.join(".") == "argparse" => {
                        for n in ARGPARSE_NAMES {
                            let v = external_attr(&format!("argparse.{n}"));
                            self.bind(n, v);
                        }
                    }
                    None => {}
                }
                continue;
            }
            let value = match module {
                Some(m) => self.module_attr(m, name),
                None => external_attr(&format!("{}.{name}", full.join("."))),
            };
            self.bind(bound, value);
        }
    }

    /// The repository and the script, with symlinks resolved: what a file must be inside to
    /// be read, and the module a helper that imports the script gets back.
    fn canonical_repo(&mut self) -> Option<PathBuf> {
        if self.canonical_repo.is_none() {
            self.canonical_repo = self.repo.as_deref().map(canonical);
            if let Some(path) = &self.modules[0].src.path {
                self.by_path.insert(canonical(path), Some(0));
            }
        }
        self.canonical_repo.clone()
    }

    /// The repository module with this dotted name, loaded and executed once.
    fn import_module(&mut self, parts: &[&str]) -> Option<ModId> {
        self.repo.as_ref()?;
        let roots = self.roots.clone();
        for root in &roots {
            // Most imports name outside packages (`torch`, `numpy`): one lookup of the first
            // name settles those.
            let mut base = root.clone();
            let mut present = true;
            for (i, p) in parts.iter().enumerate() {
                let last = i + 1 == parts.len();
                present &= Self::has_entry(&base, p)
                    || (last && Self::has_entry(&base, &format!("{p}.py")));
                if !present {
                    break;
                }
                base.push(p);
            }
            if !present {
                continue;
            }
            let package_init = base.join("__init__.py");
            let candidates = [base.with_extension("py"), package_init.clone()];
            for file in candidates {
                if !file.is_file() {
                    continue;
                }
                let repo = self.canonical_repo()?;
                let file = canonical(&file);
                if !file.starts_with(&repo) {
                    continue;
                }
                let is_package = file.ends_with("__init__.py");
                return self.load(&file, parts, is_package);
            }
            // A namespace package (a folder without `__init__.py`).
            let repo = self.canonical_repo()?;
            if base.is_dir() && canonical(&base).starts_with(&repo) {
                let dir = canonical(&base);
                if let Some(id) = self.by_path.get(&dir) {
                    return *id;
                }
                let parsed = parse_module("").ok()?;
                let src = self.arena.alloc(SourceModule {
                    display: None,
                    path: None,
                    text: String::new(),
                    parsed,
                    name: parts.join("."),
                    package: parts.iter().map(|s| (*s).to_owned()).collect(),
                });
                let id = self.add_module(src);
                self.by_path.insert(dir, Some(id));
                return Some(id);
            }
        }
        None
    }

    /// Whether `dir` has an entry `name`. Listing a large folder costs more than the few
    /// lookups a script's imports need, so this asks for the one name.
    fn has_entry(dir: &Path, name: &str) -> bool {
        std::fs::symlink_metadata(dir.join(name)).is_ok()
    }

    fn load(&mut self, file: &Path, parts: &[&str], is_package: bool) -> Option<ModId> {
        if let Some(id) = self.by_path.get(file) {
            return *id;
        }
        // Mark it first: a module that imports itself (or a cycle) sees it half-built, as in
        // Python, instead of recursing.
        self.by_path.insert(file.to_path_buf(), None);
        let display = self
            .repo
            .as_ref()
            .and_then(|r| file.strip_prefix(r).ok())
            .unwrap_or(file)
            .display()
            .to_string();
        let too_big = std::fs::metadata(file).map_or(true, |m| m.len() > MAX_MODULE_BYTES);
        let text = (!too_big)
            .then(|| std::fs::read(file).ok())
            .flatten()
            .and_then(|bytes| decode_source(bytes, Some(file)).ok());
        let Some(text) = text else {
            self.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                code: "unreadable-module".into(),
                message: format!(
                    "cannot read `{display}` as Python source; its helpers are not followed"
                ),
                line: 1,
                column: 1,
                file: Some(display),
            });
            return None;
        };
        let parsed = match parse_module(&text) {
            Ok(p) => p,
            Err(e) => {
                self.diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "module-syntax-error".into(),
                    message: format!(
                        "`{display}` has a syntax error ({}); its helpers are not followed",
                        e.message
                    ),
                    line: e.line,
                    column: e.column,
                    file: Some(display),
                });
                return None;
            }
        };
        let package: Vec<String> = if is_package {
            parts
        } else {
            &parts[..parts.len() - 1]
        }
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let src = self.arena.alloc(SourceModule {
            display: Some(display),
            path: Some(file.to_path_buf()),
            text,
            parsed,
            name: parts.join("."),
            package,
        });
        let id = self.add_module(src);
        self.by_path.insert(file.to_path_buf(), Some(id));
        // Importing a module runs it; its own parse_args (under `__main__` guards) does not
        // run because its `__name__` is not `__main__`.
        let stopped = std::mem::replace(&mut self.stopped, false);
        self.exec_module(id);
        self.stopped = stopped;
        Some(id)
    }

    fn module_attr(&mut self, m: ModId, name: &str) -> Value<'a> {
        if let Some(v) = self.modules[m].globals.get(name) {
            return v.clone();
        }
        let mut parts: Vec<String> = self.modules[m]
            .src
            .name
            .split('.')
            .map(str::to_owned)
            .collect();
        parts.push(name.to_owned());
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        match self.import_module(&parts) {
            Some(sub) => Value::Module(sub),
            None => Value::Unknown,
        }
    }
}

/// Arguments of a call, evaluated, with the expressions kept for source text and positions.
struct CallArgs<'a> {
    positional: Vec<(Value<'a>, Option<&'a ast::Expr>)>,
    keywords: Vec<(String, Value<'a>, Option<&'a ast::Expr>)>,
}

impl<'a> CallArgs<'a> {
    fn values(&self) -> Vec<Value<'a>> {
        self.positional.iter().map(|(v, _)| v.clone()).collect()
    }

    fn keyword(&self, name: &str) -> Option<&Value<'a>> {
        self.keywords
            .iter()
            .rev()
            .find(|(k, ..)| k == name)
            .map(|(_, v, _)| v)
    }

    /// The argument at `index`, or the keyword `name`.
    fn get(&self, index: usize, name: &str) -> Option<&Value<'a>> {
        self.keyword(name)
            .or_else(|| self.positional.get(index).map(|(v, _)| v))
    }

    fn any_parser(&self) -> bool {
        self.positional.iter().any(|(v, _)| v.holds_parser())
            || self.keywords.iter().any(|(_, v, _)| v.holds_parser())
    }
}

impl<'a> Interp<'a> {
    fn eval(&mut self, expr: &'a ast::Expr) -> Value<'a> {
        if self.depth >= MAX_EVAL_DEPTH {
            self.report(
                Severity::Warning,
                "too-deep",
                expr.range(),
                "expression nested too deeply to evaluate".into(),
            );
            return Value::Unknown;
        }
        self.depth += 1;
        let v = self.eval_inner(expr);
        self.depth -= 1;
        v
    }

    fn eval_inner(&mut self, expr: &'a ast::Expr) -> Value<'a> {
        use ast::Expr;
        match expr {
            Expr::StringLiteral(s) => Value::Const(Const::Str(s.value.to_str().to_owned())),
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => i
                    .as_i64()
                    .map_or(Value::Unknown, |i| Value::Const(Const::Int(i))),
                ast::Number::Float(f) => Value::Const(Const::Float(*f)),
                ast::Number::Complex { .. } => Value::Unknown,
            },
            Expr::BooleanLiteral(b) => Value::Const(Const::Bool(b.value)),
            Expr::NoneLiteral(_) => Value::Const(Const::None),
            Expr::FString(f) => self.eval_fstring(f),
            Expr::Name(n) => self.lookup(n.id.as_str()),
            Expr::Attribute(a) => {
                let owner = self.eval(&a.value);
                self.attribute(owner, a.attr.id.as_str())
            }
            Expr::List(l) => {
                let items = self.eval_elements(&l.elts);
                items.map_or(Value::Unknown, |i| Value::seq(i, false))
            }
            Expr::Tuple(t) => {
                let items = self.eval_elements(&t.elts);
                items.map_or(Value::Unknown, |i| Value::seq(i, true))
            }
            Expr::Set(s) => {
                // Set order is not defined in Python; keep the literal's order.
                let items = self.eval_elements(&s.elts);
                items.map_or(Value::Unknown, |i| Value::seq(i, false))
            }
            Expr::Dict(d) => {
                let mut entries = Vec::new();
                for item in &d.items {
                    let value = self.eval(&item.value);
                    match &item.key {
                        Some(k) => {
                            let key = self.eval(k);
                            entries.push((key, value));
                        }
                        None => match value.dict_entries() {
                            Some(more) => entries.extend(more),
                            None => return Value::Unknown,
                        },
                    }
                }
                dedup_keys(&mut entries);
                Value::dict(entries)
            }
            Expr::BinOp(b) => {
                let l = self.eval(&b.left);
                let r = self.eval(&b.right);
                binary(b.op, &l, &r)
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand);
                let Some(c) = v.to_const() else {
                    return Value::Unknown;
                };
                let r = match u.op {
                    ast::UnaryOp::Not => Some(Const::Bool(!c.truthy())),
                    ast::UnaryOp::USub => match c {
                        Const::Int(i) => i.checked_neg().map(Const::Int),
                        Const::Float(f) => Some(Const::Float(-f)),
                        Const::Bool(b) => Some(Const::Int(-i64::from(b))),
                        _ => None,
                    },
                    ast::UnaryOp::UAdd => matches!(c, Const::Int(_) | Const::Float(_)).then_some(c),
                    ast::UnaryOp::Invert => c.as_int().map(|i| Const::Int(!i)),
                };
                r.map_or(Value::Unknown, Value::Const)
            }
            Expr::BoolOp(b) => {
                let mut last = Value::Unknown;
                for value in &b.values {
                    last = self.eval(value);
                    match (b.op, last.truthy()) {
                        (_, None) => return Value::Unknown,
                        (ast::BoolOp::And, Some(false)) | (ast::BoolOp::Or, Some(true)) => {
                            return last;
                        }
                        _ => {}
                    }
                }
                last
            }
            Expr::Compare(c) => self.compare(c),
            Expr::If(i) => match self.eval(&i.test).truthy() {
                Some(true) => self.eval(&i.body),
                Some(false) => self.eval(&i.orelse),
                None => Value::Unknown,
            },
            Expr::Subscript(s) => {
                let container = self.eval(&s.value);
                if let Expr::Slice(slice) = &*s.slice {
                    return self.slice(&container, slice);
                }
                let key = self.eval(&s.slice);
                subscript(&container, &key).unwrap_or(Value::Unknown)
            }
            Expr::Call(call) => self.eval_call(call),
            Expr::Lambda(_) => Value::Lambda,
            Expr::Named(n) => {
                let v = self.eval(&n.value);
                self.assign(&n.target, v.clone());
                v
            }
            Expr::ListComp(c) => self
                .comprehension(&c.elt, &c.generators)
                .map_or(Value::Unknown, |i| Value::seq(i, false)),
            Expr::Generator(c) => self
                .comprehension(&c.elt, &c.generators)
                .map_or(Value::Unknown, |i| Value::seq(i, true)),
            Expr::SetComp(c) => self
                .comprehension(&c.elt, &c.generators)
                .map_or(Value::Unknown, |i| Value::seq(i, false)),
            Expr::DictComp(c) => {
                let Some(key) = c.key.as_deref() else {
                    return Value::Unknown;
                };
                let Some(keys) = self.comprehension(key, &c.generators) else {
                    return Value::Unknown;
                };
                let Some(values) = self.comprehension(&c.value, &c.generators) else {
                    return Value::Unknown;
                };
                let mut entries: Vec<_> = keys.into_iter().zip(values).collect();
                dedup_keys(&mut entries);
                Value::dict(entries)
            }
            _ => Value::Unknown,
        }
    }

    fn eval_elements(&mut self, elts: &'a [ast::Expr]) -> Option<Vec<Value<'a>>> {
        let mut out = Vec::with_capacity(elts.len());
        for e in elts {
            if let ast::Expr::Starred(s) = e {
                out.extend(self.eval(&s.value).items()?);
            } else {
                out.push(self.eval(e));
            }
            if out.len() > MAX_ITEMS {
                return None;
            }
        }
        Some(out)
    }

    fn eval_fstring(&mut self, f: &'a ast::ExprFString) -> Value<'a> {
        let mut out = String::new();
        for part in f.value.as_slice() {
            match part {
                ast::FStringPart::Literal(s) => out.push_str(&s.value),
                ast::FStringPart::FString(fs) => {
                    let Some(text) = self.interpolate(&fs.elements) else {
                        return Value::Unknown;
                    };
                    out.push_str(&text);
                }
            }
        }
        Value::Const(Const::Str(out))
    }

    fn interpolate(&mut self, elements: &'a ast::InterpolatedStringElements) -> Option<String> {
        let mut out = String::new();
        for element in elements {
            match element {
                ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                ast::InterpolatedStringElement::Interpolation(i) => {
                    let value = self.eval(&i.expression).to_const()?;
                    let value = match i.conversion {
                        ast::ConversionFlag::Repr | ast::ConversionFlag::Ascii => {
                            Const::Str(value.repr())
                        }
                        ast::ConversionFlag::Str => Const::Str(value.to_py_str()),
                        ast::ConversionFlag::None => value,
                    };
                    let spec = match &i.format_spec {
                        Some(spec) => self.interpolate(&spec.elements)?,
                        None => String::new(),
                    };
                    if let Some(debug) = &i.debug_text {
                        out.push_str(debug.leading());
                        out.push_str(&self.text(i.expression.range()));
                        out.push_str(debug.trailing());
                    }
                    out.push_str(&format_spec(&value, &spec)?);
                }
            }
        }
        Some(out)
    }
}

/// `left <op> right` where both sides are known.
fn binary<'a>(op: ast::Operator, l: &Value<'a>, r: &Value<'a>) -> Value<'a> {
    let op = match op {
        ast::Operator::Add => BinOp::Add,
        ast::Operator::Sub => BinOp::Sub,
        ast::Operator::Mult => BinOp::Mul,
        ast::Operator::Div => BinOp::Div,
        ast::Operator::FloorDiv => BinOp::FloorDiv,
        ast::Operator::Mod => BinOp::Mod,
        ast::Operator::Pow => BinOp::Pow,
        ast::Operator::LShift
        | ast::Operator::RShift
        | ast::Operator::BitAnd
        | ast::Operator::BitOr
        | ast::Operator::BitXor => {
            let (Some(x), Some(y)) = (
                l.to_const().and_then(|k| k.as_int()),
                r.to_const().and_then(|k| k.as_int()),
            ) else {
                return Value::Unknown;
            };
            let shifted = match op {
                ast::Operator::LShift => u32::try_from(y)
                    .ok()
                    .and_then(|n| x.checked_mul(1i64.checked_shl(n)?)),
                ast::Operator::RShift => u32::try_from(y).ok().map(|n| x >> n.min(63)),
                ast::Operator::BitAnd => Some(x & y),
                ast::Operator::BitOr => Some(x | y),
                _ => Some(x ^ y),
            };
            return shifted.map_or(Value::Unknown, |n| Value::Const(Const::Int(n)));
        }
        ast::Operator::MatMult => return Value::Unknown,
    };
    if let (BinOp::Add, Some(a), Some(b)) = (
        op,
        l.items().filter(|_| matches!(l, Value::List(_))),
        r.items().filter(|_| matches!(r, Value::List(_))),
    ) {
        return Value::seq([a, b].concat(), false);
    }
    match (l.to_const(), r.to_const()) {
        (Some(a), Some(b)) => Const::binary(op, &a, &b).map_or(Value::Unknown, Value::from_const),
        _ => Value::Unknown,
    }
}

impl<'a> Interp<'a> {
    fn compare(&mut self, c: &'a ast::ExprCompare) -> Value<'a> {
        let mut left = self.eval(&c.left);
        for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
            let right = self.eval(right);
            let result = match op {
                ast::CmpOp::In | ast::CmpOp::NotIn => {
                    let found = match (left.to_const(), &right) {
                        (Some(Const::Str(needle)), Value::Const(Const::Str(hay))) => {
                            Some(hay.contains(&needle))
                        }
                        (Some(needle), container) => container.items().map(|items| {
                            items.iter().any(|i| i.to_const().as_ref() == Some(&needle))
                        }),
                        _ => None,
                    };
                    found.map(|f| f == matches!(op, ast::CmpOp::In))
                }
                _ => {
                    let (Some(a), Some(b)) = (left.to_const(), right.to_const()) else {
                        return Value::Unknown;
                    };
                    let ord = compare_consts(&a, &b);
                    match op {
                        ast::CmpOp::Eq => Some(a == b || ord == Some(std::cmp::Ordering::Equal)),
                        ast::CmpOp::NotEq => {
                            Some(!(a == b || ord == Some(std::cmp::Ordering::Equal)))
                        }
                        ast::CmpOp::Is => Some(a == b && matches!(a, Const::None | Const::Bool(_))),
                        ast::CmpOp::IsNot => {
                            Some(!(a == b && matches!(a, Const::None | Const::Bool(_))))
                        }
                        ast::CmpOp::Lt => ord.map(std::cmp::Ordering::is_lt),
                        ast::CmpOp::LtE => ord.map(std::cmp::Ordering::is_le),
                        ast::CmpOp::Gt => ord.map(std::cmp::Ordering::is_gt),
                        ast::CmpOp::GtE => ord.map(std::cmp::Ordering::is_ge),
                        _ => None,
                    }
                }
            };
            match result {
                Some(true) => left = right,
                Some(false) => return Value::Const(Const::Bool(false)),
                None => return Value::Unknown,
            }
        }
        Value::Const(Const::Bool(true))
    }

    fn slice(&mut self, container: &Value<'a>, slice: &'a ast::ExprSlice) -> Value<'a> {
        let mut bound = |e: &'a Option<Box<ast::Expr>>| -> Option<Option<i64>> {
            match e {
                None => Some(None),
                Some(e) => self.eval(e).to_const()?.as_int().map(Some),
            }
        };
        let (Some(lo), Some(hi), Some(step)) =
            (bound(&slice.lower), bound(&slice.upper), bound(&slice.step))
        else {
            return Value::Unknown;
        };
        if step.is_some_and(|s| s != 1) {
            return Value::Unknown;
        }
        let clamp = |i: Option<i64>, len: usize, default: usize| -> usize {
            let len_i = i64::try_from(len).unwrap_or(i64::MAX);
            i.map_or(default, |i| {
                usize::try_from(if i < 0 {
                    (len_i + i).max(0)
                } else {
                    i.min(len_i)
                })
                .unwrap_or(0)
            })
        };
        match container {
            Value::Const(Const::Str(s)) => {
                let chars: Vec<char> = s.chars().collect();
                let (a, b) = (
                    clamp(lo, chars.len(), 0),
                    clamp(hi, chars.len(), chars.len()),
                );
                Value::Const(Const::Str(chars[a..b.max(a)].iter().collect()))
            }
            other => match other.items() {
                Some(items) if !matches!(other, Value::Dict(_) | Value::Const(Const::Dict(_))) => {
                    let (a, b) = (
                        clamp(lo, items.len(), 0),
                        clamp(hi, items.len(), items.len()),
                    );
                    let tuple = matches!(other, Value::Tuple(_) | Value::Const(Const::Tuple(_)));
                    Value::seq(items[a..b.max(a)].to_vec(), tuple)
                }
                _ => Value::Unknown,
            },
        }
    }

    fn comprehension(
        &mut self,
        elt: &'a ast::Expr,
        generators: &'a [ast::Comprehension],
    ) -> Option<Vec<Value<'a>>> {
        // Comprehension variables live in their own scope; we bind them in the current one and
        // restore it afterwards.
        let saved: Vec<(String, Value<'a>)> = generators
            .iter()
            .flat_map(|g| target_names(&g.target))
            .map(|n| (n.clone(), self.lookup(&n)))
            .collect();
        let mut out = Vec::new();
        let ok = self.comprehension_level(elt, generators, &mut out);
        for (n, v) in saved {
            self.bind(&n, v);
        }
        ok.then_some(out)
    }

    fn comprehension_level(
        &mut self,
        elt: &'a ast::Expr,
        generators: &'a [ast::Comprehension],
        out: &mut Vec<Value<'a>>,
    ) -> bool {
        let Some((first, rest)) = generators.split_first() else {
            out.push(self.eval(elt));
            return out.len() <= MAX_ITEMS;
        };
        let Some(items) = self.eval(&first.iter).items() else {
            return false;
        };
        for item in items {
            self.assign(&first.target, item);
            let mut keep = true;
            for cond in &first.ifs {
                match self.eval(cond).truthy() {
                    Some(t) => keep &= t,
                    None => return false,
                }
            }
            if keep && !self.comprehension_level(elt, rest, out) {
                return false;
            }
        }
        true
    }

    fn attribute(&mut self, owner: Value<'a>, name: &str) -> Value<'a> {
        match owner {
            Value::Module(m) => self.module_attr(m, name),
            Value::External(dotted) => external_attr(&format!("{dotted}.{name}")),
            Value::Class(c) => match self.class_attr(c, name) {
                Some(Value::Function(f)) if matches!(f.kind, FuncKind::ClassMethod) => {
                    Value::Bound(Box::new(Value::Class(c)), f)
                }
                Some(v) => v,
                None => Value::Unknown,
            },
            Value::Instance(i) => {
                if let Some(v) = self.instances[i].1.get(name) {
                    return v.clone();
                }
                let class = self.instances[i].0;
                match self.class_attr(class, name) {
                    Some(Value::Function(f)) => match f.kind {
                        FuncKind::Static => Value::Function(f),
                        FuncKind::ClassMethod => Value::Bound(Box::new(Value::Class(class)), f),
                        FuncKind::Plain => Value::Bound(Box::new(Value::Instance(i)), f),
                    },
                    Some(v) => v,
                    None => Value::Unknown,
                }
            }
            Value::Const(Const::Path(p))
                if matches!(name, "name" | "stem" | "suffix" | "parent") =>
            {
                path_attr(&p, name)
            }
            Value::Namespace(p) => self
                .model
                .default_of(p, name)
                .map_or(Value::Unknown, Value::Const),
            Value::Unknown => Value::Unknown,
            other => Value::Method(Box::new(other), name.to_owned()),
        }
    }

    fn class_attr(&self, class: ClassId, name: &str) -> Option<Value<'a>> {
        let mut pending = vec![class];
        let mut seen = HashSet::new();
        while let Some(c) = pending.pop() {
            if !seen.insert(c) {
                continue;
            }
            if let Some(v) = self.classes[c].attrs.get(name) {
                return Some(v.clone());
            }
            for base in self.classes[c].bases.iter().rev() {
                if let Value::Class(b) = base {
                    pending.push(*b);
                }
            }
        }
        None
    }

    // ---- calls -------------------------------------------------------------------------------

    fn eval_args(&mut self, arguments: &'a ast::Arguments) -> CallArgs<'a> {
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

    fn eval_call(&mut self, call: &'a ast::ExprCall) -> Value<'a> {
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

    fn call(&mut self, callee: Value<'a>, args: CallArgs<'a>, range: TextRange) -> Value<'a> {
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

    fn call_function(
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
        self.classes[class].bases.iter().any(|b| match b {
            Value::External(n) => n == name,
            Value::Class(c) => self.class_has_external_base(*c, name),
            _ => false,
        })
    }

    fn call_external(&mut self, name: &str, args: &CallArgs<'a>, range: TextRange) -> Value<'a> {
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

    fn slot(
        &mut self,
        value: &Value<'a>,
        expr: Option<&'a ast::Expr>,
        code: &'static str,
        what: &str,
    ) -> Slot {
        if let Some(c) = value.to_const() {
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

    fn new_parser(
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
        let parents = pos(4, "parents").and_then(Value::items).unwrap_or_default();
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
        let prefix_chars = pos(6, "prefix_chars")
            .and_then(Value::to_const)
            .and_then(|c| c.as_str().map(str::to_owned));
        let argument_default = pos(8, "argument_default").cloned().map(|v| {
            let expr = args
                .keywords
                .iter()
                .find(|(k, ..)| k == "argument_default")
                .and_then(|(.., e)| *e);
            self.slot(&v, expr, "dynamic-default", "argument_default")
        });
        let resolve = pos(9, "conflict_handler").and_then(Value::to_const)
            == Some(Const::Str("resolve".into()));
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

    fn parser_method(
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
                self.add_argument(parser, title, args, range);
                Value::Unknown
            }
            "add_argument_group" => {
                let t = args
                    .get(0, "title")
                    .and_then(Value::to_const)
                    .and_then(|c| c.as_str().map(str::to_owned));
                Value::Group(self.model.new_group(parser, t))
            }
            "add_mutually_exclusive_group" => Value::Group(self.model.new_group(parser, title)),
            "add_subparsers" => self.add_subparsers(parser, args, range),
            "set_defaults" => {
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
                    let slot = match v.to_const() {
                        Some(c) => Slot::Known(c),
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
                Value::Tuple(vec![Value::Namespace(parser), Value::Unknown])
            }
            _ => Value::Unknown,
        }
    }

    fn add_subparsers(
        &mut self,
        parser: ParserId,
        args: &CallArgs<'a>,
        range: TextRange,
    ) -> Value<'a> {
        let string = |name: &str| {
            args.keyword(name)
                .and_then(Value::to_const)
                .and_then(|c| c.as_str().map(str::to_owned))
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
            self.modules[self.module()].src.display.clone(),
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

    fn add_argument(
        &mut self,
        parser: ParserId,
        group: Option<String>,
        args: &CallArgs<'a>,
        range: TextRange,
    ) {
        let (line, column) = self.position(self.module(), self.anchor);
        let file = self.modules[self.module()].src.display.clone();
        let mut spec = ArgSpec {
            line,
            column,
            file,
            ..ArgSpec::default()
        };
        for (v, e) in &args.positional {
            if let Some(Const::Str(s)) = v.to_const() {
                spec.names.push(s);
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
                    let items = v
                        .items()
                        .and_then(|i| i.iter().map(Value::to_const).collect::<Option<Vec<_>>>());
                    let s = match items {
                        Some(items) => Slot::Known(Const::List(items)),
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

    fn action_name(
        &mut self,
        v: &Value<'a>,
        expr: Option<&'a ast::Expr>,
        range: TextRange,
    ) -> String {
        match v {
            Value::Const(Const::Str(s)) => s.clone(),
            Value::External(n) => match n.as_str() {
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

    fn type_name(&mut self, v: &Value<'a>, expr: Option<&'a ast::Expr>) -> Option<String> {
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
fn call_anchor(call: &ast::ExprCall, text: &str) -> TextRange {
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

/// `PurePosixPath` attributes of a constant path.
fn path_attr<'a>(path: &str, name: &str) -> Value<'a> {
    let trimmed = path.trim_end_matches('/');
    let (parent, file) = match trimmed.rfind('/') {
        Some(0) => ("/", &trimmed[1..]),
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    let dot = file.rfind('.').filter(|&i| i > 0);
    let text = match name {
        "name" => file,
        "stem" => dot.map_or(file, |i| &file[..i]),
        "suffix" => dot.map_or("", |i| &file[i..]),
        _ => return Value::Const(Const::Path(parent.to_owned())),
    };
    Value::Const(Const::Str(text.to_owned()))
}

/// Python keeps the last value of a repeated dict key, at the first key's position.
fn dedup_keys<'a>(entries: &mut Vec<(Value<'a>, Value<'a>)>) {
    let mut out: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(entries.len());
    for (k, v) in entries.drain(..) {
        let kc = k.to_const();
        match out
            .iter_mut()
            .find(|(x, _)| kc.is_some() && x.to_const() == kc)
        {
            Some(entry) => entry.1 = v,
            None => out.push((k, v)),
        }
    }
    *entries = out;
}

fn target_names(target: &ast::Expr) -> Vec<String> {
    match target {
        ast::Expr::Name(n) => vec![n.id.to_string()],
        ast::Expr::Tuple(t) => t.elts.iter().flat_map(target_names).collect(),
        ast::Expr::List(l) => l.elts.iter().flat_map(target_names).collect(),
        _ => Vec::new(),
    }
}

fn compare_consts(a: &Const, b: &Const) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Const::Str(x), Const::Str(y)) => Some(x.cmp(y)),
        (Const::Float(_), _) | (_, Const::Float(_)) => {
            let (x, y) = (a.to_float()?, b.to_float()?);
            match (x, y) {
                (Const::Float(x), Const::Float(y))
                    if !matches!(a, Const::Str(_)) && !matches!(b, Const::Str(_)) =>
                {
                    x.partial_cmp(&y)
                }
                _ => None,
            }
        }
        _ => Some(a.as_int()?.cmp(&b.as_int()?)),
    }
}

fn subscript<'a>(container: &Value<'a>, key: &Value<'a>) -> Option<Value<'a>> {
    let key = key.to_const()?;
    if let Some(entries) = container.dict_entries() {
        return entries
            .into_iter()
            .find(|(k, _)| k.to_const().as_ref() == Some(&key))
            .map(|(_, v)| v);
    }
    let index = key.as_int()?;
    let items: Vec<Value<'a>> = match container {
        Value::Const(Const::Str(s)) => s
            .chars()
            .map(|c| Value::Const(Const::Str(c.to_string())))
            .collect(),
        other => other.items()?,
    };
    let len = i64::try_from(items.len()).ok()?;
    let i = if index < 0 { len + index } else { index };
    usize::try_from(i).ok().and_then(|i| items.get(i).cloned())
}

/// `FLAGS.append(x)` and friends on a named container: the container's new value.
fn mutate<'a>(recv: &Value<'a>, method: &str, args: &CallArgs<'a>) -> Option<Value<'a>> {
    let values = args.values();
    match method {
        "append" | "extend" | "insert" => {
            let tuple = matches!(
                recv,
                Value::Tuple(_) | Value::Const(Const::Tuple(_) | Const::Str(_))
            );
            if tuple || matches!(recv, Value::Dict(_) | Value::Const(Const::Dict(_))) {
                return None;
            }
            let mut items = recv.items()?;
            match method {
                "append" => items.push(values.first()?.clone()),
                "extend" => items.extend(values.first()?.items()?),
                _ => {
                    let at = usize::try_from(values.first()?.to_const()?.as_int()?.max(0))
                        .ok()?
                        .min(items.len());
                    items.insert(at, values.get(1)?.clone());
                }
            }
            Some(Value::seq(items, false))
        }
        "update" => {
            let mut entries = recv.dict_entries()?;
            if let Some(more) = values.first() {
                entries.extend(more.dict_entries()?);
            }
            entries.extend(
                args.keywords
                    .iter()
                    .map(|(k, v, _)| (Value::Const(Const::Str(k.clone())), v.clone())),
            );
            dedup_keys(&mut entries);
            Some(Value::dict(entries))
        }
        _ => None,
    }
}

/// Methods of constants and containers that scripts use to build flags and help texts.
fn const_method<'a>(recv: &Value<'a>, name: &str, args: &CallArgs<'a>) -> Option<Value<'a>> {
    let arg_str = |i: usize| {
        args.positional
            .get(i)
            .and_then(|(v, _)| v.to_const())
            .and_then(|c| c.as_str().map(str::to_owned))
    };
    let str_v = |s: String| Some(Value::Const(Const::Str(s)));
    if let Some(entries) = recv.dict_entries() {
        return match name {
            "keys" => Some(Value::seq(
                entries.into_iter().map(|(k, _)| k).collect(),
                false,
            )),
            "values" => Some(Value::seq(
                entries.into_iter().map(|(_, v)| v).collect(),
                false,
            )),
            "items" => Some(Value::seq(
                entries
                    .into_iter()
                    .map(|(k, v)| Value::seq(vec![k, v], true))
                    .collect(),
                false,
            )),
            "get" => {
                let key = args.positional.first()?.0.to_const()?;
                Some(
                    entries
                        .into_iter()
                        .find(|(k, _)| k.to_const().as_ref() == Some(&key))
                        .map_or_else(
                            || {
                                args.positional
                                    .get(1)
                                    .map_or(Value::Const(Const::None), |(v, _)| v.clone())
                            },
                            |(_, v)| v,
                        ),
                )
            }
            "copy" => Some(recv.clone()),
            _ => None,
        };
    }
    if let Value::Const(Const::Str(s)) = recv {
        return match name {
            "join" => {
                let items = args.positional.first()?.0.items()?;
                let parts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| i.to_const()?.as_str().map(str::to_owned))
                    .collect();
                str_v(parts?.join(s))
            }
            "format" => str_format(s, args).and_then(str_v),
            "upper" => str_v(s.to_uppercase()),
            "lower" => str_v(s.to_lowercase()),
            "title" => str_v(title_case(s)),
            "capitalize" => {
                let mut c = s.chars();
                str_v(c.next().map_or(String::new(), |f| {
                    f.to_uppercase()
                        .chain(c.flat_map(char::to_lowercase))
                        .collect()
                }))
            }
            "strip" => str_v(s.trim().to_owned()),
            "lstrip" => str_v(arg_str(0).map_or_else(
                || s.trim_start().to_owned(),
                |c| s.trim_start_matches(|x| c.contains(x)).to_owned(),
            )),
            "rstrip" => str_v(arg_str(0).map_or_else(
                || s.trim_end().to_owned(),
                |c| s.trim_end_matches(|x| c.contains(x)).to_owned(),
            )),
            "replace" => str_v(s.replace(&arg_str(0)?, &arg_str(1)?)),
            "split" => {
                let parts: Vec<Value<'a>> = match arg_str(0) {
                    Some(sep) if !sep.is_empty() => s
                        .split(sep.as_str())
                        .map(|p| Value::Const(Const::Str(p.to_owned())))
                        .collect(),
                    Some(_) => return None,
                    None => s
                        .split_whitespace()
                        .map(|p| Value::Const(Const::Str(p.to_owned())))
                        .collect(),
                };
                Some(Value::seq(parts, false))
            }
            "startswith" => Some(Value::Const(Const::Bool(s.starts_with(&arg_str(0)?)))),
            "endswith" => Some(Value::Const(Const::Bool(s.ends_with(&arg_str(0)?)))),
            _ => None,
        };
    }
    match name {
        "copy" => Some(recv.clone()),
        "index" => {
            let needle = args.positional.first()?.0.to_const()?;
            let pos = recv
                .items()?
                .iter()
                .position(|i| i.to_const().as_ref() == Some(&needle))?;
            Some(Value::Const(Const::Int(i64::try_from(pos).ok()?)))
        }
        _ => None,
    }
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        if prev_alpha {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_alpha = c.is_alphabetic();
    }
    out
}

/// `"...".format(...)` with `{}`, `{0}`, `{name}` and format specs.
fn str_format(fmt: &str, args: &CallArgs<'_>) -> Option<String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut auto = 0;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        ch => field.push(ch),
                    }
                }
                let (name, spec) = field.split_once(':').unwrap_or((&field, ""));
                let (name, conversion) = name
                    .split_once('!')
                    .map_or((name, None), |(n, c)| (n, Some(c)));
                let value = if name.is_empty() {
                    auto += 1;
                    args.positional.get(auto - 1)?.0.to_const()?
                } else if let Ok(i) = name.parse::<usize>() {
                    args.positional.get(i)?.0.to_const()?
                } else {
                    args.keyword(name)?.to_const()?
                };
                let value = if conversion == Some("r") {
                    Const::Str(value.repr())
                } else {
                    value
                };
                out.push_str(&format_spec(&value, spec)?);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn dedent(text: &str) -> String {
    let margin = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.split('\n')
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                &l[margin.min(l.len())..]
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Built-in functions over constants.
fn builtin<'a>(name: &str, args: &CallArgs<'a>) -> Option<Value<'a>> {
    let first = args.positional.first().map(|(v, _)| v);
    let c = |v: Const| Some(Value::Const(v));
    let int_arg = |i: usize| {
        args.positional
            .get(i)
            .and_then(|(v, _)| v.to_const())
            .and_then(|c| c.as_int())
    };
    match name {
        "str" => match first {
            None => c(Const::Str(String::new())),
            Some(v) => c(Const::Str(v.to_const()?.to_py_str())),
        },
        "int" => match first {
            None => c(Const::Int(0)),
            Some(v) => c(v.to_const()?.to_int()?),
        },
        "float" => match first {
            None => c(Const::Float(0.0)),
            Some(v) => c(v.to_const()?.to_float()?),
        },
        "bool" => match first {
            None => c(Const::Bool(false)),
            Some(v) => c(Const::Bool(v.truthy()?)),
        },
        "len" => {
            let v = first?;
            let n = match v.to_const() {
                Some(Const::Str(s)) => s.chars().count(),
                _ => v.items()?.len(),
            };
            c(Const::Int(i64::try_from(n).ok()?))
        }
        "range" => {
            let (start, end, step) = match args.positional.len() {
                1 => (0, int_arg(0)?, 1),
                2 => (int_arg(0)?, int_arg(1)?, 1),
                3 => (int_arg(0)?, int_arg(1)?, int_arg(2)?),
                _ => return None,
            };
            if step == 0 {
                return None;
            }
            let count = if step > 0 {
                (end - start).max(0) / step
            } else {
                (start - end).max(0) / -step
            };
            if count > i64::try_from(MAX_ITEMS).ok()? {
                return None;
            }
            let mut items = Vec::new();
            let mut i = start;
            while (step > 0 && i < end) || (step < 0 && i > end) {
                items.push(Const::Int(i));
                i += step;
            }
            c(Const::List(items))
        }
        "list" | "tuple" | "set" | "frozenset" | "sorted" | "reversed" => {
            let mut items = match first {
                None => Vec::new(),
                Some(v) => v.items()?,
            };
            if name == "sorted" {
                let mut consts: Vec<Const> =
                    items.iter().map(Value::to_const).collect::<Option<_>>()?;
                consts.sort_by(|a, b| compare_consts(a, b).unwrap_or(std::cmp::Ordering::Equal));
                if args.keyword("reverse").and_then(Value::truthy) == Some(true) {
                    consts.reverse();
                }
                items = consts.into_iter().map(Value::Const).collect();
            }
            if name == "reversed" {
                items.reverse();
            }
            Some(Value::seq(items, name == "tuple"))
        }
        "dict" => {
            let mut entries = match first {
                Some(v) => v.dict_entries().or_else(|| {
                    v.items()?
                        .into_iter()
                        .map(|pair| {
                            let kv = pair.items()?;
                            (kv.len() == 2).then(|| (kv[0].clone(), kv[1].clone()))
                        })
                        .collect()
                })?,
                None => Vec::new(),
            };
            entries.extend(
                args.keywords
                    .iter()
                    .map(|(k, v, _)| (Value::Const(Const::Str(k.clone())), v.clone())),
            );
            dedup_keys(&mut entries);
            Some(Value::dict(entries))
        }
        "zip" => {
            let lists: Vec<Vec<Value<'a>>> = args
                .positional
                .iter()
                .map(|(v, _)| v.items())
                .collect::<Option<_>>()?;
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            Some(Value::seq(
                (0..n)
                    .map(|i| Value::seq(lists.iter().map(|l| l[i].clone()).collect(), true))
                    .collect(),
                false,
            ))
        }
        "enumerate" => {
            let start = args
                .get(1, "start")
                .and_then(Value::to_const)
                .and_then(|c| c.as_int())
                .unwrap_or(0);
            let items = first?.items()?;
            Some(Value::seq(
                items
                    .into_iter()
                    .zip(start..)
                    .map(|(v, i)| Value::seq(vec![Value::Const(Const::Int(i)), v], true))
                    .collect(),
                false,
            ))
        }
        "min" | "max" | "sum" => {
            let items: Vec<Const> = if args.positional.len() == 1 {
                first?
                    .items()?
                    .iter()
                    .map(Value::to_const)
                    .collect::<Option<_>>()?
            } else {
                args.positional
                    .iter()
                    .map(|(v, _)| v.to_const())
                    .collect::<Option<_>>()?
            };
            if name == "sum" {
                return items
                    .iter()
                    .try_fold(Const::Int(0), |acc, x| Const::binary(BinOp::Add, &acc, x))
                    .map(Value::Const);
            }
            let pick = items.into_iter().reduce(|a, b| {
                let ord = compare_consts(&b, &a).unwrap_or(std::cmp::Ordering::Equal);
                if (name == "min" && ord.is_lt()) || (name == "max" && ord.is_gt()) {
                    b
                } else {
                    a
                }
            })?;
            c(pick)
        }
        "abs" => match first?.to_const()? {
            Const::Int(i) => c(Const::Int(i.checked_abs()?)),
            Const::Float(f) => c(Const::Float(f.abs())),
            _ => None,
        },
        "round" => {
            let v = first?.to_const()?.to_float()?;
            let Const::Float(f) = v else { return None };
            match int_arg(1) {
                None => {
                    // Python rounds half to even; 0.5 is exact in binary, so `==` is right here.
                    let r = f.round();
                    #[allow(clippy::float_cmp)]
                    let r = if (f - f.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                        r - f.signum()
                    } else {
                        r
                    };
                    #[allow(clippy::cast_possible_truncation)]
                    c(Const::Int(r as i64))
                }
                Some(d) => {
                    let scale = 10f64.powi(i32::try_from(d).ok()?);
                    c(Const::Float((f * scale).round() / scale))
                }
            }
        }
        "type" => {
            let v = first?.to_const()?;
            BUILTINS
                .iter()
                .find(|b| **b == v.type_name())
                .map(|b| Value::Builtin(b))
        }
        _ => None,
    }
}

/// Attributes of outside modules that matter to argparse.
fn external_attr<'a>(dotted: &str) -> Value<'a> {
    let c = |s: &str| Value::Const(Const::Str(s.to_owned()));
    match dotted {
        "argparse.SUPPRESS" => c(SUPPRESS),
        "argparse.OPTIONAL" => c("?"),
        "argparse.ZERO_OR_MORE" => c("*"),
        "argparse.ONE_OR_MORE" => c("+"),
        "argparse.REMAINDER" => c("..."),
        "argparse.PARSER" => c("A..."),
        "os.sep" | "os.path.sep" => c("/"),
        "os.linesep" => c("\n"),
        "math.pi" => Value::Const(Const::Float(std::f64::consts::PI)),
        "math.e" => Value::Const(Const::Float(std::f64::consts::E)),
        "math.inf" => Value::Const(Const::Float(f64::INFINITY)),
        "sys.maxsize" => Value::Const(Const::Int(i64::MAX)),
        _ => Value::External(dotted.to_owned()),
    }
}
