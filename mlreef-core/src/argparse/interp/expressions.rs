//! Expressions: literals, operators, comparisons, subscripts, comprehensions, f-strings and
//! attribute access.

use super::{
    BinOp, ClassId, Const, FuncKind, HashSet, Interp, MAX_EVAL_DEPTH, MAX_ITEMS, Ranged, Severity,
    Value, ast, compare_consts, dedup_keys, external_attr, format_spec, path_attr, subscript,
    target_names,
};

impl<'a> Interp<'a> {
    pub(super) fn eval(&mut self, expr: &'a ast::Expr) -> Value<'a> {
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

    pub(super) fn eval_inner(&mut self, expr: &'a ast::Expr) -> Value<'a> {
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

    pub(super) fn eval_elements(&mut self, elts: &'a [ast::Expr]) -> Option<Vec<Value<'a>>> {
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

    pub(super) fn eval_fstring(&mut self, f: &'a ast::ExprFString) -> Value<'a> {
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

    pub(super) fn interpolate(
        &mut self,
        elements: &'a ast::InterpolatedStringElements,
    ) -> Option<String> {
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
pub(super) fn binary<'a>(op: ast::Operator, l: &Value<'a>, r: &Value<'a>) -> Value<'a> {
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
    pub(super) fn compare(&mut self, c: &'a ast::ExprCompare) -> Value<'a> {
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

    pub(super) fn slice(&mut self, container: &Value<'a>, slice: &'a ast::ExprSlice) -> Value<'a> {
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

    pub(super) fn comprehension(
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

    pub(super) fn comprehension_level(
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

    pub(super) fn attribute(&mut self, owner: Value<'a>, name: &str) -> Value<'a> {
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

    pub(super) fn class_attr(&self, class: ClassId, name: &str) -> Option<Value<'a>> {
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
}
