//! Modules: imports of `argparse` and of the repository's own modules, found on the script's
//! `sys.path`, read once and evaluated as Python would.

use super::{
    ARGPARSE_NAMES, Diagnostic, Interp, MAX_MODULE_BYTES, ModId, Path, PathBuf, Ranged, Severity,
    SourceModule, Value, ast, canonical, external_attr, parse_module,
};

impl<'a> Interp<'a> {
    // ---- imports ---------------------------------------------------------------------------

    pub(super) fn exec_import(&mut self, i: &'a ast::StmtImport) {
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

    pub(super) fn exec_import_from(&mut self, i: &'a ast::StmtImportFrom) {
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
    pub(super) fn canonical_repo(&mut self) -> Option<PathBuf> {
        if self.canonical_repo.is_none() {
            self.canonical_repo = self.repo.as_deref().map(canonical);
            if let Some(path) = &self.modules[0].src.path {
                self.by_path.insert(canonical(path), Some(0));
            }
        }
        self.canonical_repo.clone()
    }

    /// The repository module with this dotted name, loaded and executed once.
    pub(super) fn import_module(&mut self, parts: &[&str]) -> Option<ModId> {
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
    pub(super) fn has_entry(dir: &Path, name: &str) -> bool {
        std::fs::symlink_metadata(dir.join(name)).is_ok()
    }

    pub(super) fn load(&mut self, file: &Path, parts: &[&str], is_package: bool) -> Option<ModId> {
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
            .and_then(|bytes| crate::source::decode(bytes, Some(file)).ok());
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

    pub(super) fn module_attr(&mut self, m: ModId, name: &str) -> Value<'a> {
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
