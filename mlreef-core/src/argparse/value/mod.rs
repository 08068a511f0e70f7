//! Python values the extractor can compute from constants, with Python's own rules for
//! printing and arithmetic where scripts rely on them (`str(1e-4)` is `0.0001`, `7 // -2` is -4).
//!
//! A script is untrusted input, so every value is bounded: containers share their items
//! (`Rc`) so that copying a name is free, each value knows its nesting depth and its *size*
//! (about the length of its `repr`, what printing it or writing it into the JSON contract
//! costs), and every operation checks the size of its result against [`Budget`] before it
//! allocates. A result over a limit is not computed: the operation gives `None` (unknown) and
//! the budget remembers why, so the interpreter can report `too-complex` where it happened.

mod budget;
mod format;

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value as Json;

pub(crate) use budget::{Budget, MAX_DEPTH, MAX_ITEMS, MAX_SIZE};
pub(crate) use format::{float_repr, format_spec};
use format::{percent_format, str_repr};

/// The items of a list or tuple, with their nesting depth and total size.
#[derive(Debug, Clone)]
pub(crate) struct Seq<T> {
    depth: u16,
    size: usize,
    items: Vec<T>,
}

impl<T> std::ops::Deref for Seq<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> Seq<T> {
    pub(crate) fn depth(&self) -> u16 {
        self.depth
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The items, owned; a copy only when the sequence is shared.
    pub(crate) fn into_vec(self: Rc<Self>) -> Vec<T>
    where
        T: Clone,
    {
        Rc::unwrap_or_clone(self).items
    }
}

impl<T: Nested> Seq<T> {
    /// `list.append(item)` in place, within the limits of `budget`.
    pub(crate) fn push(&mut self, item: T, budget: &Budget) -> Option<()> {
        let size = self.size.saturating_add(item.size()).saturating_add(2);
        if self.items.len() >= MAX_ITEMS || item.depth() + 1 >= MAX_DEPTH || size > MAX_SIZE {
            return budget.refuse();
        }
        budget.items(1)?;
        self.depth = self.depth.max(item.depth() + 1);
        self.size = size;
        self.items.push(item);
        Some(())
    }
}

/// Something that can sit in a container: its nesting depth and size.
pub(crate) trait Nested {
    fn depth(&self) -> u16;
    fn size(&self) -> usize;
}

/// Builds a container of `items` when it stays within the limits of `budget`.
pub(crate) fn seq<T: Nested>(items: Vec<T>, budget: &Budget) -> Option<Rc<Seq<T>>> {
    budget.items(items.len())?;
    let mut depth = 0;
    let mut size = 2usize;
    for item in &items {
        depth = depth.max(item.depth());
        size = size.saturating_add(item.size()).saturating_add(2);
    }
    if depth >= MAX_DEPTH {
        return budget.refuse();
    }
    if size > MAX_SIZE {
        return budget.refuse();
    }
    Some(Rc::new(Seq {
        depth: depth + 1,
        size,
        items,
    }))
}

/// A dict key: a hashable constant, equal and hashed as Python does (`1`, `1.0` and `True` are
/// one key).
#[derive(Debug, Clone)]
pub(crate) struct Key(Const);

impl Key {
    /// The key for `value`, unless Python would refuse it (`unhashable type: 'list'`).
    pub(crate) fn new(value: Const) -> Option<Key> {
        value.hashable().then_some(Key(value))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.py_eq(&other.0)
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.py_hash(state);
    }
}

/// A dict of constants, insertion-ordered like Python's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dict {
    depth: u16,
    size: usize,
    map: IndexMap<Key, Const>,
}

impl Dict {
    /// A dict of `entries` (a repeated key keeps its first position and its last value, as in
    /// Python), when the keys are hashable and it stays within the limits of `budget`.
    pub(crate) fn from_entries(entries: Vec<(Const, Const)>, budget: &Budget) -> Option<Dict> {
        budget.items(entries.len())?;
        let mut dict = Dict {
            depth: 1,
            size: 2,
            map: IndexMap::with_capacity(entries.len()),
        };
        for (k, v) in entries {
            dict.insert(k, v, budget)?;
        }
        Some(dict)
    }

    /// `dict[key] = value`.
    pub(crate) fn insert(&mut self, key: Const, value: Const, budget: &Budget) -> Option<()> {
        let key = Key::new(key)?;
        let depth = key.0.depth().max(value.depth());
        if depth >= MAX_DEPTH || self.map.len() >= MAX_ITEMS {
            return budget.refuse();
        }
        let added = key.0.size() + value.size() + 4;
        let size = self.size.saturating_add(added);
        if size > MAX_SIZE {
            return budget.refuse();
        }
        budget.step(1)?;
        self.depth = self.depth.max(depth + 1);
        // A replaced entry's size stays counted: a bound, not an exact figure.
        self.size = size;
        self.map.insert(key, value);
        Some(())
    }

    pub(crate) fn get(&self, key: &Const) -> Option<&Const> {
        if !key.hashable() {
            return None;
        }
        self.map.get(&Key(key.clone()))
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Const, &Const)> {
        self.map.iter().map(|(k, v)| (&k.0, v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &Const> {
        self.map.keys().map(|k| &k.0)
    }
}

/// A Python value known without running the script.
#[derive(Debug, Clone)]
pub(crate) enum Const {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Seq<Const>>),
    Tuple(Rc<Seq<Const>>),
    Dict(Rc<Dict>),
    /// A `pathlib.Path`; `str()` of it is the text.
    Path(Rc<str>),
}

impl PartialEq for Const {
    /// Structural equality (for tests and for telling values apart); Python's `==` is
    /// [`Const::py_eq`].
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Const::None, Const::None) => true,
            (Const::Bool(a), Const::Bool(b)) => a == b,
            (Const::Int(a), Const::Int(b)) => a == b,
            #[allow(clippy::float_cmp)]
            (Const::Float(a), Const::Float(b)) => a.to_bits() == b.to_bits() || a == b,
            (Const::Str(a), Const::Str(b)) | (Const::Path(a), Const::Path(b)) => a == b,
            (Const::List(a), Const::List(b)) | (Const::Tuple(a), Const::Tuple(b)) => {
                a.items == b.items
            }
            (Const::Dict(a), Const::Dict(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x == y)
            }
            _ => false,
        }
    }
}

impl Nested for Const {
    fn depth(&self) -> u16 {
        match self {
            Const::List(v) | Const::Tuple(v) => v.depth,
            Const::Dict(d) => d.depth,
            _ => 0,
        }
    }

    /// About the length of the value's `repr`: what printing it costs.
    fn size(&self) -> usize {
        match self {
            Const::None | Const::Bool(_) => 5,
            Const::Int(_) | Const::Float(_) => 24,
            Const::Str(s) | Const::Path(s) => s.len() + 2,
            Const::List(v) | Const::Tuple(v) => v.size,
            Const::Dict(d) => d.size,
        }
    }
}

/// Python's arithmetic operators that constants support.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
}

impl Const {
    pub(crate) fn str(s: &str) -> Const {
        Const::Str(s.into())
    }

    /// A list of `items`, within the limits of `budget`.
    pub(crate) fn list(items: Vec<Const>, budget: &Budget) -> Option<Const> {
        seq(items, budget).map(Const::List)
    }

    /// A tuple of `items`, within the limits of `budget`.
    pub(crate) fn tuple(items: Vec<Const>, budget: &Budget) -> Option<Const> {
        seq(items, budget).map(Const::Tuple)
    }

    pub(crate) fn truthy(&self) -> bool {
        match self {
            Const::None => false,
            Const::Bool(b) => *b,
            Const::Int(i) => *i != 0,
            Const::Float(f) => *f != 0.0,
            Const::Str(s) => !s.is_empty(),
            Const::List(v) | Const::Tuple(v) => !v.is_empty(),
            Const::Dict(v) => v.len() > 0,
            Const::Path(_) => true,
        }
    }

    /// Whether Python can hash it (use it as a dict key or set item).
    pub(crate) fn hashable(&self) -> bool {
        match self {
            Const::List(_) | Const::Dict(_) => false,
            Const::Tuple(v) => v.iter().all(Const::hashable),
            _ => true,
        }
    }

    /// Python's `==`: numbers compare across `bool`, `int` and `float`.
    pub(crate) fn py_eq(&self, other: &Const) -> bool {
        match (self, other) {
            (Const::Str(a), Const::Str(b)) | (Const::Path(a), Const::Path(b)) => a == b,
            (Const::List(a), Const::List(b)) | (Const::Tuple(a), Const::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.py_eq(y))
            }
            (Const::Dict(a), Const::Dict(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.py_eq(w)))
            }
            (Const::None, Const::None) => true,
            _ => match (self.number(), other.number()) {
                (Some(Number::Int(a)), Some(Number::Int(b))) => a == b,
                #[allow(clippy::cast_precision_loss, clippy::float_cmp)]
                (Some(a), Some(b)) => a.as_f64() == b.as_f64(),
                _ => false,
            },
        }
    }

    /// A hash consistent with [`Const::py_eq`] for hashable values.
    fn py_hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Const::None => 0u8.hash(state),
            Const::Str(s) => {
                1u8.hash(state);
                s.hash(state);
            }
            Const::Path(s) => {
                2u8.hash(state);
                s.hash(state);
            }
            Const::Tuple(v) => {
                3u8.hash(state);
                v.len().hash(state);
                for item in v.iter() {
                    item.py_hash(state);
                }
            }
            Const::List(_) | Const::Dict(_) => 4u8.hash(state),
            Const::Bool(_) | Const::Int(_) | Const::Float(_) => {
                // Integral numbers hash as the integer, so `1`, `1.0` and `True` meet.
                5u8.hash(state);
                match self.number() {
                    Some(Number::Int(i)) => i.hash(state),
                    Some(Number::Float(f)) =>
                    {
                        #[allow(clippy::cast_possible_truncation)]
                        if f.fract() == 0.0 && f.abs() < 9.2e18 {
                            (f as i64).hash(state);
                        } else if f.is_nan() {
                            u64::MAX.hash(state);
                        } else {
                            f.to_bits().hash(state);
                        }
                    }
                    None => {}
                }
            }
        }
    }

    fn number(&self) -> Option<Number> {
        match self {
            Const::Bool(b) => Some(Number::Int(i64::from(*b))),
            Const::Int(i) => Some(Number::Int(*i)),
            Const::Float(f) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    /// The elements `for x in value` sees: a dict's keys, a string's characters.
    pub(crate) fn iter_items(&self, budget: &Budget) -> Option<Vec<Const>> {
        match self {
            Const::List(v) | Const::Tuple(v) => {
                budget.step(v.len())?;
                Some(v.to_vec())
            }
            Const::Dict(v) => {
                budget.step(v.len())?;
                Some(v.keys().cloned().collect())
            }
            Const::Str(s) => {
                budget.items(s.chars().take(MAX_ITEMS + 1).count())?;
                Some(
                    s.chars()
                        .map(|c| Const::Str(c.to_string().into()))
                        .collect(),
                )
            }
            _ => None,
        }
    }

    /// `str(value)` of a value written into a parameter, which [`Budget::output`] has charged.
    pub(crate) fn written_text(&self) -> String {
        match self {
            Const::Str(s) | Const::Path(s) => s.to_string(),
            other => {
                let mut out = String::new();
                other.write_repr(&mut out);
                out
            }
        }
    }

    /// The items of a value written into a parameter (its choices), which
    /// [`Budget::output`] has charged.
    pub(crate) fn written_items(&self) -> Option<Vec<Const>> {
        match self {
            Const::List(v) | Const::Tuple(v) => Some(v.to_vec()),
            Const::Dict(v) => Some(v.keys().cloned().collect()),
            Const::Str(s) => Some(
                s.chars()
                    .map(|c| Const::Str(c.to_string().into()))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `str(value)`, within the budget.
    pub(crate) fn to_py_str(&self, budget: &Budget) -> Option<String> {
        match self {
            Const::Str(s) | Const::Path(s) => Some(s.to_string()),
            other => other.repr(budget),
        }
    }

    /// `repr(value)`, within the budget.
    pub(crate) fn repr(&self, budget: &Budget) -> Option<String> {
        // A value's size bounds its repr, up to the escapes of strings (at most 4 bytes each).
        budget.value(self.size())?;
        let mut out = String::new();
        self.write_repr(&mut out);
        Some(out)
    }

    /// `repr(value)` cut to `max` characters, for messages.
    pub(crate) fn short_repr(&self, max: usize) -> String {
        let mut out = String::new();
        if self.size() <= max.saturating_mul(4) {
            self.write_repr(&mut out);
        } else {
            out = format!("<{} of {} items>", self.type_name(), self.len_hint());
        }
        match out.char_indices().nth(max) {
            Some((end, _)) => format!("{}…", &out[..end]),
            None => out,
        }
    }

    fn len_hint(&self) -> usize {
        match self {
            Const::List(v) | Const::Tuple(v) => v.len(),
            Const::Dict(d) => d.len(),
            Const::Str(s) | Const::Path(s) => s.chars().count(),
            _ => 1,
        }
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Const::None => out.push_str("None"),
            Const::Bool(true) => out.push_str("True"),
            Const::Bool(false) => out.push_str("False"),
            Const::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Const::Float(f) => out.push_str(&float_repr(*f)),
            Const::Str(s) => str_repr(s, out),
            Const::Path(s) => {
                out.push_str("PosixPath(");
                str_repr(s, out);
                out.push(')');
            }
            Const::List(v) => {
                out.push('[');
                join_repr(v, out);
                out.push(']');
            }
            Const::Tuple(v) => {
                out.push('(');
                join_repr(v, out);
                if v.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Const::Dict(d) => {
                out.push('{');
                for (i, (k, x)) in d.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.write_repr(out);
                    out.push_str(": ");
                    x.write_repr(out);
                }
                out.push('}');
            }
        }
    }

    /// The JSON form of the contract: tuples are lists, paths are their text, dict keys strings.
    pub(crate) fn to_json(&self) -> Json {
        match self {
            Const::None => Json::Null,
            Const::Bool(b) => Json::Bool(*b),
            Const::Int(i) => Json::from(*i),
            Const::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Const::Str(s) | Const::Path(s) => Json::String(s.to_string()),
            Const::List(v) | Const::Tuple(v) => Json::Array(v.iter().map(Const::to_json).collect()),
            Const::Dict(d) => Json::Object(
                d.iter()
                    .map(|(k, x)| {
                        let key = match k {
                            Const::Str(s) | Const::Path(s) => s.to_string(),
                            other => other.short_repr(usize::MAX),
                        };
                        (key, x.to_json())
                    })
                    .collect(),
            ),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Const::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Const::Int(i) => Some(*i),
            Const::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    fn as_float(&self) -> Option<f64> {
        self.number().map(Number::as_f64)
    }

    /// The name of the value's type, as `type(value).__name__` gives it.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Const::None => "NoneType",
            Const::Bool(_) => "bool",
            Const::Int(_) => "int",
            Const::Float(_) => "float",
            Const::Str(_) => "str",
            Const::List(_) => "list",
            Const::Tuple(_) => "tuple",
            Const::Dict(_) => "dict",
            Const::Path(_) => "PosixPath",
        }
    }

    /// `int(value)`.
    pub(crate) fn to_int(&self) -> Option<Const> {
        match self {
            Const::Str(s) => s.trim().replace('_', "").parse().ok().map(Const::Int),
            #[allow(clippy::cast_possible_truncation)]
            Const::Float(f) if f.is_finite() && f.abs() < 9.2e18 => {
                Some(Const::Int(f.trunc() as i64))
            }
            other => other.as_int().map(Const::Int),
        }
    }

    /// `float(value)`.
    pub(crate) fn to_float(&self) -> Option<Const> {
        match self {
            Const::Str(s) => {
                let t = s.trim().to_ascii_lowercase().replace('_', "");
                let f = match t.as_str() {
                    "inf" | "+inf" | "infinity" => f64::INFINITY,
                    "-inf" | "-infinity" => f64::NEG_INFINITY,
                    "nan" => f64::NAN,
                    _ => t.parse().ok()?,
                };
                Some(Const::Float(f))
            }
            other => other.as_float().map(Const::Float),
        }
    }

    /// `a <op> b` for constants, with Python's semantics; `None` where Python would raise,
    /// where we do not model the operation, or where the result would pass the budget.
    pub(crate) fn binary(op: BinOp, a: &Const, b: &Const, budget: &Budget) -> Option<Const> {
        use Const::{Float, List, Path, Str, Tuple};
        match (op, a, b) {
            (BinOp::Add, Str(x), Str(y)) => {
                budget.value(x.len().saturating_add(y.len()))?;
                Some(Str(format!("{x}{y}").into()))
            }
            (BinOp::Add, List(x), List(y)) => Const::list([&x[..], &y[..]].concat(), budget),
            (BinOp::Add, Tuple(x), Tuple(y)) => Const::tuple([&x[..], &y[..]].concat(), budget),
            (BinOp::Mul, Str(s), n) | (BinOp::Mul, n, Str(s)) if n.as_int().is_some() => {
                let n = usize::try_from(n.as_int()?.max(0)).unwrap_or(usize::MAX);
                budget.value(s.len().saturating_mul(n))?;
                Some(Str(s.repeat(n).into()))
            }
            (BinOp::Mul, List(v), n) | (BinOp::Mul, n, List(v)) if n.as_int().is_some() => {
                Const::list(repeat(v, n.as_int()?, budget)?, budget)
            }
            (BinOp::Mul, Tuple(v), n) | (BinOp::Mul, n, Tuple(v)) if n.as_int().is_some() => {
                Const::tuple(repeat(v, n.as_int()?, budget)?, budget)
            }
            (BinOp::Div, Path(p), Str(s) | Path(s)) => {
                budget.value(p.len().saturating_add(s.len()).saturating_add(1))?;
                Some(Path(path_join(p, s).into()))
            }
            (BinOp::Mod, Str(f), args) => percent_format(f, args, budget).map(|s| Str(s.into())),
            _ => match (a.as_int(), b.as_int()) {
                (Some(x), Some(y)) if !matches!((a, b), (Float(_), _) | (_, Float(_))) => {
                    int_binary(op, x, y)
                }
                _ => float_binary(op, a.as_float()?, b.as_float()?).map(Float),
            }
            .or_else(|| {
                // `Int` overflow or true division of ints falls back to floats like Python does
                // for `/` (and is dynamic for the rest).
                matches!(op, BinOp::Div)
                    .then(|| float_binary(op, a.as_float()?, b.as_float()?).map(Float))
                    .flatten()
            }),
        }
    }
}

#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    #[allow(clippy::cast_precision_loss)]
    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// `v * n`, checked before it is built.
fn repeat(v: &[Const], n: i64, budget: &Budget) -> Option<Vec<Const>> {
    let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    budget.items(v.len().saturating_mul(n))?;
    Some(v.iter().cloned().cycle().take(v.len() * n).collect())
}

fn int_binary(op: BinOp, x: i64, y: i64) -> Option<Const> {
    Some(Const::Int(match op {
        BinOp::Add => x.checked_add(y)?,
        BinOp::Sub => x.checked_sub(y)?,
        BinOp::Mul => x.checked_mul(y)?,
        BinOp::Div => return None,
        BinOp::FloorDiv => {
            let q = x.checked_div(y)?;
            if (x.checked_rem(y)? != 0) && ((x < 0) != (y < 0)) {
                q.checked_sub(1)?
            } else {
                q
            }
        }
        BinOp::Mod => {
            let r = x.checked_rem(y)?;
            if r != 0 && ((r < 0) != (y < 0)) {
                r.checked_add(y)?
            } else {
                r
            }
        }
        BinOp::Pow => {
            if y < 0 {
                let y = i32::try_from(y).ok()?;
                #[allow(clippy::cast_precision_loss)]
                let f = (x as f64).powi(y);
                return f.is_finite().then_some(Const::Float(f));
            }
            x.checked_pow(u32::try_from(y).ok()?)?
        }
    }))
}

fn float_binary(op: BinOp, x: f64, y: f64) -> Option<f64> {
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div if y != 0.0 => x / y,
        BinOp::FloorDiv if y != 0.0 => (x / y).floor(),
        BinOp::Mod if y != 0.0 => x - y * (x / y).floor(),
        BinOp::Pow => x.powf(y),
        _ => return None,
    };
    r.is_finite().then_some(r)
}

/// `os.path.join` / `Path / str` for POSIX paths: an absolute part restarts the path.
pub(crate) fn path_join(base: &str, part: &str) -> String {
    if part.starts_with('/') || base.is_empty() {
        part.to_owned()
    } else if base.ends_with('/') {
        format!("{base}{part}")
    } else {
        format!("{base}/{part}")
    }
}

fn join_repr(v: &[Const], out: &mut String) {
    for (i, item) in v.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out);
    }
}

/// A string result of an operation, within the budget.
pub(crate) fn string(s: String, budget: &Budget) -> Option<Const> {
    budget.value(s.len())?;
    Some(Const::Str(s.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Budget {
        Budget::default()
    }

    #[test]
    fn python_division_rules() {
        let bin = |op, x, y| Const::binary(op, &Const::Int(x), &Const::Int(y), &b());
        assert_eq!(bin(BinOp::FloorDiv, 7, -2), Some(Const::Int(-4)));
        assert_eq!(bin(BinOp::Mod, -7, 3), Some(Const::Int(2)));
        assert_eq!(bin(BinOp::Div, 7, 2), Some(Const::Float(3.5)));
        assert_eq!(bin(BinOp::Pow, 2, 10), Some(Const::Int(1024)));
        assert_eq!(bin(BinOp::Div, 1, 0), None);
        // Overflow never wraps: it is unknown.
        assert_eq!(bin(BinOp::FloorDiv, i64::MIN, -1), None);
        assert_eq!(bin(BinOp::Mod, i64::MIN, -1), None);
        assert_eq!(bin(BinOp::Pow, 2, 64), None);
        assert_eq!(bin(BinOp::Mul, i64::MAX, 2), None);
        assert_eq!(bin(BinOp::Pow, 2, -2000), Some(Const::Float(0.0)));
    }

    #[test]
    fn repetition_and_concatenation_are_checked_first() {
        let budget = b();
        let s = Const::str("ab");
        assert_eq!(
            Const::binary(BinOp::Mul, &s, &Const::Int(i64::MAX), &budget),
            None
        );
        assert!(budget.take_oversize());
        let list = Const::list(vec![Const::Int(1)], &budget).unwrap();
        assert_eq!(
            Const::binary(BinOp::Mul, &list, &Const::Int(1 << 40), &budget),
            None
        );
        assert!(budget.take_oversize());
        // Sharing does not hide size: a list of one big string, repeated, is refused.
        let big = Const::binary(BinOp::Mul, &s, &Const::Int(1 << 20), &budget).unwrap();
        let one = Const::list(vec![big], &budget).unwrap();
        assert_eq!(
            Const::binary(BinOp::Mul, &one, &Const::Int(1000), &budget),
            None
        );
        assert!(budget.take_oversize());
    }

    #[test]
    fn nesting_is_bounded() {
        let budget = b();
        let mut v = Const::Int(0);
        let mut depth = 0;
        while let Some(next) = Const::list(vec![v.clone()], &budget) {
            v = next;
            depth += 1;
        }
        assert_eq!(depth, usize::from(MAX_DEPTH));
        assert!(budget.take_oversize());
    }

    #[test]
    fn dict_keys_follow_python_equality() {
        let budget = b();
        let d = Dict::from_entries(
            vec![
                (Const::Int(1), Const::str("int")),
                (Const::Float(1.0), Const::str("float")),
                (Const::Bool(true), Const::str("bool")),
                (Const::str("1"), Const::str("str")),
            ],
            &budget,
        )
        .unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.get(&Const::Int(1)), Some(&Const::str("bool")));
        assert_eq!(d.keys().next(), Some(&Const::Int(1)));
        let unhashable = Const::list(vec![], &budget).unwrap();
        assert!(Dict::from_entries(vec![(unhashable, Const::None)], &budget).is_none());
    }
}
