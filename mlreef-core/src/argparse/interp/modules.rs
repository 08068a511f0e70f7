//! Modules: imports of `argparse` and of the repository's own modules, found on the script's
//! `sys.path`.
//!
//! The script runs top to bottom; the modules it imports are evaluated **on demand**. An
//! import only finds the module's file. Reading a name of the module (`helpers.add_args`, a
//! name bound by `from helpers import add_args`, a global used by one of its functions) reads
//! and parses the file the first time, and runs its top-level statements in order up to the
//! last one that binds or may change that name (see `plan`), never past it and never twice. A
//! training script that imports a large package for its models therefore evaluates only the
//! few statements its parsers depend on. `from m import *` falls back to `m` for names the
//! importing module does not bind. [`Imports::Eager`] evaluates every imported module whole
//! at import, as Python does, for comparison.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use typed_arena::Arena;

use super::builtins::{ARGPARSE_NAMES, external_attr};
use super::plan::Plan;
use super::{Interp, ModId, Names, Scope, Value};
use crate::argparse::{Imports, Options};
use crate::parameter::{Diagnostic, Severity};
use crate::python::{ParsedModule, Ranged, TextRange, ast, parse_module, with_stack_for};
use crate::repo::Boundary;

/// Helper modules larger than this are not read.
const MAX_MODULE_BYTES: u64 = 4 << 20;
/// Modules evaluated inside one another (a chain of imports that each need the next).
const MAX_IMPORT_DEPTH: usize = 64;

/// A module's source, read once and kept for the whole extraction.
pub(super) struct SourceModule {
    text: String,
    pub(super) parsed: ParsedModule,
}

impl SourceModule {
    pub(super) fn entry(source: &str, parsed: ParsedModule) -> Self {
        SourceModule {
            text: source.to_owned(),
            parsed,
        }
    }
}

struct ModState<'a> {
    /// The dotted name (`__main__` for the script itself) and the package it is in.
    name: String,
    package: Vec<String>,
    /// The file to read on first use (`None` for the script, read already, and for namespace
    /// packages, which have none).
    file: Option<PathBuf>,
    /// Shown in diagnostics about the module (relative to the repository).
    display: Option<String>,
    src: Option<&'a SourceModule>,
    /// Whether reading was tried (it may have failed).
    read: bool,
    names: Names<'a>,
    plan: Option<Rc<Plan>>,
    /// Top-level statements run so far (a module runs its statements in order).
    next: usize,
    /// Its statements are running: reading its names gives what is bound so far, as in Python.
    running: bool,
    /// Evaluated on demand (the script itself runs top to bottom).
    lazy: bool,
    /// Modules `from m import *` made its names fall back to, in import order.
    stars: Vec<ModId>,
}

/// The modules of one extraction and where they come from.
pub(super) struct Loader<'a> {
    arena: &'a Arena<SourceModule>,
    mods: Vec<ModState<'a>>,
    by_path: HashMap<PathBuf, ModId>,
    /// The repository: no module outside it is read.
    boundary: Option<Boundary>,
    /// `sys.path`: the script's folder, then the repository root.
    roots: Vec<PathBuf>,
    eager: bool,
    /// Modules being evaluated inside one another.
    nesting: usize,
    /// Modules whose star imports are being searched (against `from a import *` cycles).
    searching: Vec<ModId>,
    bytes_read: usize,
}

impl<'a> Loader<'a> {
    pub(super) fn new(arena: &'a Arena<SourceModule>, options: &Options) -> Self {
        // Absolute but not canonical: resolving symlinks costs a system call per path
        // component, so it waits until an import really finds a file.
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
        let mut loader = Loader {
            arena,
            mods: Vec::new(),
            by_path: HashMap::new(),
            boundary: repo.as_deref().map(Boundary::new),
            roots,
            eager: options.imports == Imports::Eager,
            nesting: 0,
            searching: Vec::new(),
            bytes_read: 0,
        };
        // The script is module 0; a helper that imports it gets it back.
        loader.push(ModState::new("__main__".into(), Vec::new(), None, None));
        if let Some(path) = &options.path {
            let real = path.canonicalize().unwrap_or_else(|_| path.clone());
            loader.by_path.insert(real, 0);
        }
        loader
    }

    pub(super) fn add_entry(&mut self, entry: &'a SourceModule) -> ModId {
        self.mods[0].src = Some(entry);
        self.mods[0].read = true;
        0
    }

    pub(super) fn entry(&self) -> &'a SourceModule {
        self.mods[0].src.expect("the script is read before it runs")
    }

    fn push(&mut self, state: ModState<'a>) -> ModId {
        self.mods.push(state);
        self.mods.len() - 1
    }

    /// Bytes of helper modules read, which their syntax trees' drop needs stack for.
    pub(super) fn bytes_read(&self) -> usize {
        self.bytes_read
    }

    pub(super) fn names_mut(&mut self, m: ModId) -> &mut Names<'a> {
        &mut self.mods[m].names
    }

    pub(super) fn display(&self, m: ModId) -> Option<String> {
        self.mods[m].display.clone()
    }

    pub(super) fn position(&self, m: ModId, range: TextRange) -> (usize, usize) {
        self.mods[m].src.map_or((1, 1), |src| {
            src.parsed
                .lines()
                .position(&src.text, range.start().to_usize())
        })
    }

    pub(super) fn text(&self, m: ModId, range: TextRange) -> &'a str {
        self.mods[m].src.map_or("", |src| {
            src.text
                .get(range.start().to_usize()..range.end().to_usize())
                .unwrap_or("")
        })
    }

    /// The whole text of a module that has been read.
    pub(super) fn source_text(&self, m: ModId) -> &'a str {
        self.mods[m].src.map_or("", |src| src.text.as_str())
    }

    fn package(&self, m: ModId) -> &[String] {
        &self.mods[m].package
    }

    /// Whether `dir` has an entry `name`. Listing a large folder costs more than the few
    /// lookups a script's imports need, so this asks for the one name.
    fn has_entry(dir: &Path, name: &str) -> bool {
        std::fs::symlink_metadata(dir.join(name)).is_ok()
    }

    /// The repository module with this dotted name: its file found and registered, not read.
    fn find(&mut self, parts: &[&str]) -> Option<(ModId, bool)> {
        let boundary = self.boundary.clone()?;
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
            let candidates = [base.with_extension("py"), package_init];
            for file in candidates {
                if !file.is_file() {
                    continue;
                }
                let Some(file) = boundary.resolve(&file) else {
                    continue;
                };
                let is_package = file.ends_with("__init__.py");
                return Some(self.register(Some(file), parts, is_package));
            }
            // A namespace package (a folder without `__init__.py`).
            if base.is_dir() && boundary.contains(&base) {
                return Some(self.register(None, parts, true));
            }
        }
        None
    }

    /// The module for `file` (or a namespace package); whether it is new.
    fn register(&mut self, file: Option<PathBuf>, parts: &[&str], package: bool) -> (ModId, bool) {
        let key = file.as_ref().map_or_else(
            // Namespace packages are told apart by their dotted name.
            || PathBuf::from(format!("\0namespace:{}", parts.join("."))),
            Clone::clone,
        );
        if let Some(&id) = self.by_path.get(&key) {
            return (id, false);
        }
        let display = file.as_ref().map(|f| {
            self.boundary
                .as_ref()
                .map_or_else(|| f.display().to_string(), |b| b.relative(f))
        });
        let package_parts = if package {
            parts
        } else {
            &parts[..parts.len() - 1]
        };
        let namespace = file.is_none();
        let mut state = ModState::new(
            parts.join("."),
            package_parts.iter().map(|s| (*s).to_owned()).collect(),
            file,
            display,
        );
        state.lazy = true;
        state.read = namespace;
        let id = self.push(state);
        self.by_path.insert(key, id);
        (id, true)
    }
}

impl ModState<'_> {
    fn new(
        name: String,
        package: Vec<String>,
        file: Option<PathBuf>,
        display: Option<String>,
    ) -> Self {
        let mut names = Names::default();
        names.set("__name__", Value::str(&name), &Vec::new());
        ModState {
            name,
            package,
            file,
            display,
            src: None,
            read: false,
            names,
            plan: None,
            next: 0,
            running: false,
            lazy: false,
            stars: Vec::new(),
        }
    }
}

impl<'a> Interp<'a> {
    // ---- import statements ---------------------------------------------------------------

    pub(super) fn exec_import(&mut self, i: &'a ast::StmtImport) {
        for alias in &i.names {
            let dotted = alias.name.id.as_str();
            let parts: Vec<&str> = dotted.split('.').collect();
            if let Some(asname) = &alias.asname {
                let v = self
                    .import_module(&parts)
                    .map_or_else(|| Value::External(dotted.into()), Value::Module);
                self.bind(asname.id.as_str(), v);
            } else {
                // `import a.b` binds `a`; `a.b` is then reachable as an attribute.
                let top = self.import_module(&parts[..1]);
                if top.is_some() && parts.len() > 1 {
                    let _ = self.import_module(&parts);
                }
                let v = top.map_or_else(|| Value::External(parts[0].into()), Value::Module);
                self.bind(parts[0], v);
            }
        }
    }

    pub(super) fn exec_import_from(&mut self, i: &'a ast::StmtImportFrom) {
        let module_name: Vec<String> = i
            .module
            .as_ref()
            .map(|m| m.id.as_str().split('.').map(str::to_owned).collect())
            .unwrap_or_default();
        let full: Vec<String> = if i.level > 0 {
            let package = self.modules.package(self.module());
            let up = i.level as usize - 1;
            // Python refuses a relative import above the top-level package; so do we, rather
            // than resolve it against the repository root.
            if package.is_empty() || up >= package.len() {
                self.note(
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
        let here = self.module();
        for alias in &i.names {
            let name = alias.name.id.as_str();
            let bound = alias.asname.as_ref().map_or(name, |a| a.id.as_str());
            if name == "*" {
                match module {
                    Some(m) if self.modules.eager => self.copy_public_names(m),
                    Some(m) => {
                        let stars = &mut self.modules.mods[here].stars;
                        if !stars.contains(&m) {
                            stars.push(m);
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
            // Each imported name carries only its own taint.
            self.findings.start_statement();
            let value = match module {
                Some(m) if self.modules.eager => self.module_attr(m, name),
                // Evaluated when first read.
                Some(m) => Value::Import(m, name.into()),
                None => external_attr(&format!("{}.{name}", full.join("."))),
            };
            self.bind(bound, value);
        }
    }

    /// `from m import *` in eager mode: every public name of `m`, now.
    fn copy_public_names(&mut self, m: ModId) {
        let names: Vec<(String, Value<'a>)> = self.modules.mods[m]
            .names
            .values
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in names {
            self.bind(&k, v);
        }
    }

    // ---- finding and evaluating modules --------------------------------------------------

    /// The repository module with this dotted name. On demand, it is only found; eagerly, it
    /// also runs whole the first time.
    fn import_module(&mut self, parts: &[&str]) -> Option<ModId> {
        let (id, new) = self.modules.find(parts)?;
        if new && self.modules.eager {
            self.run_statements(id, usize::MAX);
        }
        Some(id)
    }

    /// Reads and parses a module the first time it is needed; `None` when it cannot be.
    fn source_of(&mut self, m: ModId) -> Option<&'a SourceModule> {
        if self.modules.mods[m].read {
            return self.modules.mods[m].src;
        }
        self.modules.mods[m].read = true;
        let file = self.modules.mods[m].file.clone()?;
        let display = self.modules.mods[m].display.clone().unwrap_or_default();
        let text = crate::repo::read_bounded(&file, MAX_MODULE_BYTES)
            .ok()
            .and_then(|bytes| crate::source::decode(bytes, Some(&file)).ok());
        let Some(text) = text else {
            self.module_problem(
                m,
                "unreadable-module",
                (1, 1),
                format!("cannot read `{display}` as Python source; its helpers are not followed"),
            );
            return None;
        };
        self.modules.bytes_read = self.modules.bytes_read.saturating_add(text.len());
        // Parsing recurses as deep as the module's longest expression chain.
        let parsed = match with_stack_for(text.len(), || parse_module(&text)) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.module_problem(
                    m,
                    "module-syntax-error",
                    (e.line, e.column),
                    format!(
                        "`{display}` has a syntax error ({}); its helpers are not followed",
                        e.message
                    ),
                );
                return None;
            }
        };
        let src: &'a SourceModule = self.modules.arena.alloc(SourceModule { text, parsed });
        self.modules.mods[m].src = Some(src);
        Some(src)
    }

    fn module_problem(
        &mut self,
        m: ModId,
        code: &'static str,
        at: (usize, usize),
        message: String,
    ) {
        let diagnostic = Diagnostic {
            severity: Severity::Warning,
            code: code.into(),
            message,
            line: at.0,
            column: at.1,
            file: self.modules.display(m),
        };
        self.findings.add((m, 0, code), diagnostic, false);
    }

    /// Runs the module's top-level statements from where it stopped up to (not including)
    /// `upto`, in its own scope, undisturbed by the script having stopped at `parse_args`.
    fn run_statements(&mut self, m: ModId, upto: usize) {
        if self.modules.mods[m].running || self.modules.mods[m].next >= upto {
            return;
        }
        let Some(src) = self.source_of(m) else {
            return;
        };
        if self.modules.nesting >= MAX_IMPORT_DEPTH {
            let message = format!(
                "imports nested more than {MAX_IMPORT_DEPTH} deep; `{}` is not followed",
                self.modules.mods[m].name
            );
            self.module_problem(m, "too-complex", (1, 1), message);
            return;
        }
        let body = src.parsed.body();
        let upto = upto.min(body.len());
        self.modules.mods[m].running = true;
        self.modules.nesting += 1;
        let stopped = std::mem::replace(&mut self.stopped, self.budget.exhausted());
        let flow = self.findings.take_flow();
        let (depth, call_depth) = (self.depth, self.call_depth);
        self.frames.push(Scope::Module(m));
        while self.modules.mods[m].next < upto && !self.stopped {
            let i = self.modules.mods[m].next;
            self.modules.mods[m].next = i + 1;
            let _ = self.exec_block(&body[i..=i]);
        }
        self.frames.pop();
        (self.depth, self.call_depth) = (depth, call_depth);
        // A module's own statements do not influence the statement that needed it; the names
        // it binds carry their taints.
        let _ = self.findings.replace_flow(flow);
        self.stopped = stopped || self.budget.exhausted();
        self.modules.nesting -= 1;
        self.modules.mods[m].running = false;
    }

    /// Runs what a module needs to bind `name`, on demand.
    fn advance(&mut self, m: ModId, name: &str) {
        let state = &self.modules.mods[m];
        if !state.lazy || state.running || self.modules.eager {
            return;
        }
        let Some(src) = self.source_of(m) else {
            return;
        };
        let plan = if let Some(plan) = &self.modules.mods[m].plan {
            Rc::clone(plan)
        } else {
            let plan = Rc::new(with_stack_for(src.text.len(), || {
                Plan::new(src.parsed.body())
            }));
            self.modules.mods[m].plan = Some(Rc::clone(&plan));
            plan
        };
        if let Some(&last) = plan.last(name) {
            self.run_statements(m, last + 1);
        }
    }

    /// The value of a module's global `name`, evaluating what it needs; `None` when the module
    /// does not bind it.
    pub(super) fn global(&mut self, m: ModId, name: &str) -> Option<Value<'a>> {
        self.advance(m, name);
        let Some((value, taint)) = self.modules.mods[m]
            .names
            .get(name)
            .map(|(v, t)| (v.clone(), t.cloned()))
        else {
            return self.star_fallback(m, name);
        };
        if let Some(taint) = taint {
            self.findings.read(&taint);
        }
        let Value::Import(source, attr) = value else {
            return Some(value);
        };
        // An imported name: evaluate it now, once. The binding holds an unknown value while it
        // is evaluated, so an import cycle ends instead of recursing.
        let names = &mut self.modules.mods[m].names;
        names.values.insert(name.to_owned(), Value::Unknown);
        let forced = if self.modules.nesting >= MAX_IMPORT_DEPTH {
            Value::Unknown
        } else {
            self.modules.nesting += 1;
            let forced = if source == m {
                // `from . import x` inside the package itself: the submodule.
                self.submodule(m, &attr)
            } else {
                self.module_attr(source, &attr)
            };
            self.modules.nesting -= 1;
            forced
        };
        self.modules.mods[m]
            .names
            .values
            .insert(name.to_owned(), forced.clone());
        Some(forced)
    }

    /// A name the module does not bind, from the modules it star-imported.
    fn star_fallback(&mut self, m: ModId, name: &str) -> Option<Value<'a>> {
        if name.starts_with('_')
            || self.modules.searching.contains(&m)
            || self.modules.searching.len() >= MAX_IMPORT_DEPTH
        {
            return None;
        }
        // A module evaluated on demand has not run its `from x import *` lines yet.
        if self.modules.mods[m].lazy && !self.modules.mods[m].running {
            let star_lines: Vec<usize> = self.modules.mods[m]
                .plan
                .as_ref()
                .map(|p| p.stars().to_vec())
                .unwrap_or_default();
            if let Some(src) = self.modules.mods[m].src {
                for i in star_lines {
                    if let ast::Stmt::ImportFrom(stmt) = &src.parsed.body()[i] {
                        self.frames.push(Scope::Module(m));
                        self.exec_import_from(stmt);
                        self.frames.pop();
                    }
                }
            }
        }
        let stars = self.modules.mods[m].stars.clone();
        self.modules.searching.push(m);
        let found = stars.iter().rev().find_map(|&s| self.global(s, name));
        self.modules.searching.pop();
        found
    }

    /// `module.name`: a global of the module, else its submodule.
    pub(super) fn module_attr(&mut self, m: ModId, name: &str) -> Value<'a> {
        match self.global(m, name) {
            Some(v) => v,
            None => self.submodule(m, name),
        }
    }

    fn submodule(&mut self, m: ModId, name: &str) -> Value<'a> {
        let dotted = format!("{}.{name}", self.modules.mods[m].name);
        let parts: Vec<&str> = dotted.split('.').collect();
        self.import_module(&parts)
            .map_or(Value::Unknown, Value::Module)
    }
}
