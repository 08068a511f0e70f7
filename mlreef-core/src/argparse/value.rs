//! Python values the extractor can compute from constants, with Python's own rules for
//! printing and arithmetic where scripts rely on them (`str(1e-4)` is `0.0001`, `7 // -2` is -4).

use std::fmt::Write as _;

use serde_json::Value as Json;

/// A Python value known without running the script.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Const {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Const>),
    Tuple(Vec<Const>),
    /// Insertion-ordered, like Python's dict.
    Dict(Vec<(Const, Const)>),
    /// A `pathlib.Path`; `str()` of it is the text.
    Path(String),
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

/// Ranges and repetitions are materialised; past this many items we stop and call it dynamic.
pub(crate) const MAX_ITEMS: usize = 100_000;

impl Const {
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Const::None => false,
            Const::Bool(b) => *b,
            Const::Int(i) => *i != 0,
            Const::Float(f) => *f != 0.0,
            Const::Str(s) => !s.is_empty(),
            Const::List(v) | Const::Tuple(v) => !v.is_empty(),
            Const::Dict(v) => !v.is_empty(),
            Const::Path(_) => true,
        }
    }

    /// The elements of an iterable constant: a dict iterates over its keys, a string over its
    /// characters.
    pub(crate) fn iter_items(&self) -> Option<Vec<Const>> {
        match self {
            Const::List(v) | Const::Tuple(v) => Some(v.clone()),
            Const::Dict(v) => Some(v.iter().map(|(k, _)| k.clone()).collect()),
            Const::Str(s) => Some(s.chars().map(|c| Const::Str(c.to_string())).collect()),
            _ => None,
        }
    }

    /// `str(value)`.
    pub(crate) fn to_py_str(&self) -> String {
        match self {
            Const::Str(s) | Const::Path(s) => s.clone(),
            other => other.repr(),
        }
    }

    /// `repr(value)`.
    pub(crate) fn repr(&self) -> String {
        match self {
            Const::None => "None".into(),
            Const::Bool(true) => "True".into(),
            Const::Bool(false) => "False".into(),
            Const::Int(i) => i.to_string(),
            Const::Float(f) => float_repr(*f),
            Const::Str(s) => str_repr(s),
            Const::Path(s) => format!("PosixPath({})", str_repr(s)),
            Const::List(v) => format!("[{}]", join_repr(v)),
            Const::Tuple(v) if v.len() == 1 => format!("({},)", v[0].repr()),
            Const::Tuple(v) => format!("({})", join_repr(v)),
            Const::Dict(v) => {
                let items: Vec<String> = v
                    .iter()
                    .map(|(k, x)| format!("{}: {}", k.repr(), x.repr()))
                    .collect();
                format!("{{{}}}", items.join(", "))
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
            Const::Str(s) | Const::Path(s) => Json::String(s.clone()),
            Const::List(v) | Const::Tuple(v) => Json::Array(v.iter().map(Const::to_json).collect()),
            Const::Dict(v) => Json::Object(
                v.iter()
                    .map(|(k, x)| (k.to_py_str(), x.to_json()))
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
        match self {
            Const::Float(f) => Some(*f),
            #[allow(clippy::cast_precision_loss)]
            other => other.as_int().map(|i| i as f64),
        }
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

    /// `a <op> b` for constants, with Python's semantics; `None` where Python would raise or
    /// where we do not model the operation.
    pub(crate) fn binary(op: BinOp, a: &Const, b: &Const) -> Option<Const> {
        use Const::{Float, List, Path, Str, Tuple};
        match (op, a, b) {
            (BinOp::Add, Str(x), Str(y)) => Some(Str(format!("{x}{y}"))),
            (BinOp::Add, List(x), List(y)) => Some(List([x.as_slice(), y].concat())),
            (BinOp::Add, Tuple(x), Tuple(y)) => Some(Tuple([x.as_slice(), y].concat())),
            (BinOp::Mul, Str(s), n) | (BinOp::Mul, n, Str(s)) if n.as_int().is_some() => {
                let n = usize::try_from(n.as_int()?.max(0)).ok()?;
                (s.len().saturating_mul(n) <= MAX_ITEMS * 10).then(|| Str(s.repeat(n)))
            }
            (BinOp::Mul, List(v), n) | (BinOp::Mul, n, List(v)) if n.as_int().is_some() => {
                repeat(v, n.as_int()?).map(List)
            }
            (BinOp::Mul, Tuple(v), n) | (BinOp::Mul, n, Tuple(v)) if n.as_int().is_some() => {
                repeat(v, n.as_int()?).map(Tuple)
            }
            (BinOp::Div, Path(p), Str(s) | Path(s)) => Some(Path(path_join(p, s))),
            (BinOp::Mod, Str(f), args) => percent_format(f, args).map(Str),
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

fn repeat(v: &[Const], n: i64) -> Option<Vec<Const>> {
    let n = usize::try_from(n.max(0)).ok()?;
    if v.len().saturating_mul(n) > MAX_ITEMS {
        return None;
    }
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
            if (x % y != 0) && ((x < 0) != (y < 0)) {
                q - 1
            } else {
                q
            }
        }
        BinOp::Mod => {
            let r = x.checked_rem(y)?;
            if r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => {
            if y < 0 {
                #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
                return Some(Const::Float((x as f64).powi(y as i32)));
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

fn join_repr(v: &[Const]) -> String {
    v.iter().map(Const::repr).collect::<Vec<_>>().join(", ")
}

/// Python's `repr` of a string: single quotes unless the text has one and no double quote.
fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr(float)`: the shortest text that round-trips, in positional notation for
/// exponents from -4 to 15 and scientific notation (`1e-05`, `1e+16`) outside.
#[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)] // `point` is positive on that branch
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.5e-5", "-2e16".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
        } else {
            let point = point as usize;
            if digits.len() <= point {
                format!("{}{}.0", digits, "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let mantissa = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{esign}{:02}", exp.abs())
    }
}

/// `format(value, spec)` for the specs help texts and flag names use: `d`, `f`, `e`, `g`, `%`,
/// `s`, with width, fill/alignment, sign and `,` grouping.
// Names follow the format-spec mini-language (fill, align, width, precision).
#[allow(
    clippy::many_single_char_names,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
pub(crate) fn format_spec(value: &Const, spec: &str) -> Option<String> {
    if spec.is_empty() {
        return Some(value.to_py_str());
    }
    let mut chars: Vec<char> = spec.chars().collect();
    let kind = match chars.last() {
        Some(c) if c.is_ascii_alphabetic() || *c == '%' => chars.pop(),
        _ => None,
    };
    let mut i = 0;
    let (mut fill, mut align) = (' ', None);
    if chars.len() >= 2 && matches!(chars[1], '<' | '>' | '^' | '=') {
        fill = chars[0];
        align = Some(chars[1]);
        i = 2;
    } else if chars
        .first()
        .is_some_and(|c| matches!(c, '<' | '>' | '^' | '='))
    {
        align = Some(chars[0]);
        i = 1;
    }
    let mut plus = false;
    if chars.get(i) == Some(&'+') {
        plus = true;
        i += 1;
    } else if chars.get(i) == Some(&'-') {
        i += 1;
    }
    if chars.get(i) == Some(&'0') && align.is_none() {
        fill = '0';
        align = Some('=');
        i += 1;
    }
    let rest: String = chars[i..].iter().collect();
    let (width, precision) = match rest.split_once('.') {
        Some((w, p)) => (w, Some(p.parse::<usize>().ok()?)),
        None => (rest.as_str(), None),
    };
    let grouping = width.ends_with(',');
    let width: usize = if width.trim_end_matches(',').is_empty() {
        0
    } else {
        width.trim_end_matches(',').parse().ok()?
    };
    let numeric = matches!(value, Const::Int(_) | Const::Float(_) | Const::Bool(_));
    let mut body = match (kind, value) {
        (None | Some('s'), Const::Str(s)) => match precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        },
        (None | Some('d'), Const::Int(i)) => i.to_string(),
        (Some('f' | 'F'), v) => format!("{:.*}", precision.unwrap_or(6), v.as_float()?),
        (Some('%'), v) => format!("{:.*}%", precision.unwrap_or(6), v.as_float()? * 100.0),
        (Some('e' | 'E'), v) => {
            let s = format!("{:.*e}", precision.unwrap_or(6), v.as_float()?);
            let (m, e) = s.split_once('e')?;
            let e: i32 = e.parse().ok()?;
            format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
        }
        (None, Const::Float(f)) if precision.is_none() => float_repr(*f),
        (Some('g') | None, v) if numeric => {
            let f = v.as_float()?;
            let p = precision.unwrap_or(6).max(1);
            let exp = if f == 0.0 {
                0
            } else {
                f.abs().log10().floor() as i32
            };
            #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
            let s = if exp < -4 || exp >= p as i32 {
                format_spec(v, &format!(".{}e", p - 1))?
            } else {
                format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, f)
            };
            trim_g(&s)
        }
        _ => return None,
    };
    if grouping {
        body = group_thousands(&body);
    }
    if plus && numeric && !body.starts_with('-') {
        body.insert(0, '+');
    }
    let len = body.chars().count();
    if len >= width {
        return Some(body);
    }
    let pad = width - len;
    let fill_str = |n: usize| fill.to_string().repeat(n);
    let align = align.unwrap_or(if numeric { '>' } else { '<' });
    Some(match align {
        '<' => format!("{body}{}", fill_str(pad)),
        '^' => format!("{}{body}{}", fill_str(pad / 2), fill_str(pad - pad / 2)),
        '=' if body.starts_with(['-', '+']) => {
            format!("{}{}{}", &body[..1], fill_str(pad), &body[1..])
        }
        _ => format!("{}{body}", fill_str(pad)),
    })
}

fn trim_g(s: &str) -> String {
    let (m, e) = match s.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let m = if m.contains('.') {
        m.trim_end_matches('0').trim_end_matches('.')
    } else {
        m
    };
    match e {
        Some(e) => format!("{m}e{e}"),
        None => m.to_owned(),
    }
}

fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (n, c) in int.chars().enumerate() {
        if n > 0 && (int.len() - n) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// `"..." % args` for `%s`, `%r`, `%d`, `%i`, `%f`, `%g`, `%e` and `%%`. Help strings keep
/// argparse's own `%(default)s` placeholders, so a named placeholder leaves the text unknown.
fn percent_format(fmt: &str, args: &Const) -> Option<String> {
    let args: Vec<Const> = match args {
        Const::Tuple(v) => v.clone(),
        Const::Dict(_) => return None,
        other => vec![other.clone()],
    };
    let mut args = args.into_iter();
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || matches!(n, '.' | '-' | '+' | ' ' | '0') {
                spec.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let kind = chars.next()?;
        match kind {
            '%' => out.push('%'),
            's' => out.push_str(&format_spec(&Const::Str(args.next()?.to_py_str()), &spec)?),
            'r' => out.push_str(&args.next()?.repr()),
            'd' | 'i' => out.push_str(&format_spec(&args.next()?.to_int()?, &format!("{spec}d"))?),
            'f' | 'e' | 'g' => {
                let spec = if spec.contains('.') || kind == 'g' {
                    spec
                } else {
                    format!("{spec}.6")
                };
                out.push_str(&format_spec(
                    &args.next()?.to_float()?,
                    &format!("{spec}{kind}"),
                )?);
            }
            _ => return None,
        }
    }
    args.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python() {
        for (f, s) in [
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (3e-4, "0.0003"),
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (123_456_789.0, "123456789.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5e-7, "-2.5e-07"),
            (1e15, "1000000000000000.0"),
        ] {
            assert_eq!(float_repr(f), s, "{f}");
        }
    }

    #[test]
    fn format_specs() {
        assert_eq!(
            format_spec(&Const::Float(0.001), ".0e").as_deref(),
            Some("1e-03")
        );
        assert_eq!(
            format_spec(&Const::Float(0.5), ".2f").as_deref(),
            Some("0.50")
        );
        assert_eq!(format_spec(&Const::Int(7), "03d").as_deref(), Some("007"));
        assert_eq!(
            format_spec(&Const::Int(1_234_567), ",").as_deref(),
            Some("1,234,567")
        );
        assert_eq!(
            format_spec(&Const::Float(0.0001), "g").as_deref(),
            Some("0.0001")
        );
        assert_eq!(
            format_spec(&Const::Float(1e-5), "g").as_deref(),
            Some("1e-05")
        );
        assert_eq!(
            format_spec(&Const::Str("ab".into()), ">4").as_deref(),
            Some("  ab")
        );
    }

    #[test]
    fn python_division_rules() {
        let b = |op, x, y| Const::binary(op, &Const::Int(x), &Const::Int(y));
        assert_eq!(b(BinOp::FloorDiv, 7, -2), Some(Const::Int(-4)));
        assert_eq!(b(BinOp::Mod, -7, 3), Some(Const::Int(2)));
        assert_eq!(b(BinOp::Div, 7, 2), Some(Const::Float(3.5)));
        assert_eq!(b(BinOp::Pow, 2, 10), Some(Const::Int(1024)));
        assert_eq!(b(BinOp::Div, 1, 0), None);
    }

    #[test]
    fn percent_formatting() {
        let f = |s: &str, a: Const| percent_format(s, &a);
        assert_eq!(f("lr %s", Const::Float(0.1)).as_deref(), Some("lr 0.1"));
        assert_eq!(f("%d%%", Const::Int(5)).as_deref(), Some("5%"));
        assert_eq!(f("%(default)s", Const::Int(5)), None);
    }
}
