//! Scopes: looking names up, binding them, and assigning to targets (names, unpacking,
//! attributes, subscripts).

use super::{BUILTINS, Interp, Scope, Value, ast};

impl<'a> Interp<'a> {
    // ---- names ---------------------------------------------------------------------------

    pub(super) fn lookup(&self, name: &str) -> Value<'a> {
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

    pub(super) fn bind(&mut self, name: &str, value: Value<'a>) {
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
    pub(super) fn rebind(&mut self, name: &str, value: Value<'a>) {
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

    pub(super) fn assign(&mut self, target: &'a ast::Expr, value: Value<'a>) {
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
}
