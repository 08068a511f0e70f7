//! Statements: blocks, assignments, definitions, `if`, `for`, `while`, `with`, `try`.

use super::{
    ClassState, Const, Flow, Func, FuncKind, HashMap, Interp, MAX_LOOP_ITERATIONS, MAX_STEPS,
    Ranged, Scope, Severity, Value, ast, binary,
};

impl<'a> Interp<'a> {
    // ---- statements ------------------------------------------------------------------------

    pub(super) fn exec_block(&mut self, body: &'a [ast::Stmt]) -> Flow<'a> {
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

    pub(super) fn exec(&mut self, stmt: &'a ast::Stmt) -> Flow<'a> {
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

    pub(super) fn exec_if(&mut self, s: &'a ast::StmtIf) -> Flow<'a> {
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

    pub(super) fn exec_for(&mut self, f: &'a ast::StmtFor) -> Flow<'a> {
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

    pub(super) fn exec_class(&mut self, def: &'a ast::StmtClassDef) {
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
}
