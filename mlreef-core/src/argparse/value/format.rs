//! Python's text forms of values: `repr` of strings and floats, `format(value, spec)` and
//! `"..." % args`, each checked against the budget before it makes text.

use std::fmt::Write as _;

use super::{Budget, Const, Nested};

/// Python's `repr` of a string: single quotes unless the text has one and no double quote.
pub(super) fn str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.reserve(s.len() + 2);
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
/// `s`, with width, fill/alignment, sign and `,` grouping. Widths and precisions are checked
/// against the budget before any text is made.
// Names follow the format-spec mini-language (fill, align, width, precision).
#[allow(
    clippy::many_single_char_names,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
pub(crate) fn format_spec(value: &Const, spec: &str, budget: &Budget) -> Option<String> {
    if spec.is_empty() {
        return value.to_py_str(budget);
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
    // The text is at most the width, or the precision's digits (and a float's 309 integer
    // digits), past what the value needs.
    budget.value(
        width
            .max(precision.unwrap_or(0))
            .saturating_add(value.size())
            .saturating_add(320),
    )?;
    let numeric = matches!(value, Const::Int(_) | Const::Float(_) | Const::Bool(_));
    let mut body = match (kind, value) {
        (None | Some('s'), Const::Str(s)) => match precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
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
            let exp = if f == 0.0 || !f.is_finite() {
                0
            } else {
                f.abs().log10().floor() as i32
            };
            let s = if exp < -4 || i64::from(exp) >= p as i64 {
                format_spec(v, &format!(".{}e", p - 1), budget)?
            } else {
                format!("{:.*}", (p as i64 - 1 - i64::from(exp)).max(0) as usize, f)
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
pub(super) fn percent_format(fmt: &str, args: &Const, budget: &Budget) -> Option<String> {
    let args: Vec<Const> = match args {
        Const::Tuple(v) => v.to_vec(),
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
        let piece = match kind {
            '%' => "%".to_owned(),
            's' => format_spec(
                &Const::Str(args.next()?.to_py_str(budget)?.into()),
                &spec,
                budget,
            )?,
            'r' => args.next()?.repr(budget)?,
            'd' | 'i' => format_spec(&args.next()?.to_int()?, &format!("{spec}d"), budget)?,
            'f' | 'e' | 'g' => {
                let spec = if spec.contains('.') || kind == 'g' {
                    spec
                } else {
                    format!("{spec}.6")
                };
                format_spec(&args.next()?.to_float()?, &format!("{spec}{kind}"), budget)?
            }
            _ => return None,
        };
        budget.value(out.len().saturating_add(piece.len()))?;
        out.push_str(&piece);
    }
    args.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Budget {
        Budget::default()
    }

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
        let f = |v: Const, spec: &str| format_spec(&v, spec, &b());
        assert_eq!(f(Const::Float(0.001), ".0e").as_deref(), Some("1e-03"));
        assert_eq!(f(Const::Float(0.5), ".2f").as_deref(), Some("0.50"));
        assert_eq!(f(Const::Int(7), "03d").as_deref(), Some("007"));
        assert_eq!(f(Const::Int(1_234_567), ",").as_deref(), Some("1,234,567"));
        assert_eq!(f(Const::Float(0.0001), "g").as_deref(), Some("0.0001"));
        assert_eq!(f(Const::Float(1e-5), "g").as_deref(), Some("1e-05"));
        assert_eq!(f(Const::str("ab"), ">4").as_deref(), Some("  ab"));
    }

    #[test]
    fn huge_widths_and_precisions_are_refused_before_allocating() {
        let budget = b();
        for spec in [">2000000000", ".2000000000f", "0999999999d", ".999999999e"] {
            assert_eq!(format_spec(&Const::Int(1), spec, &budget), None, "{spec}");
            assert!(budget.take_oversize(), "{spec}");
        }
        assert_eq!(
            percent_format("%2000000000s", &Const::Int(1), &budget),
            None
        );
        assert!(budget.take_oversize());
        assert!(!budget.exhausted());
    }

    #[test]
    fn percent_formatting() {
        let f = |s: &str, a: Const| percent_format(s, &a, &b());
        assert_eq!(f("lr %s", Const::Float(0.1)).as_deref(), Some("lr 0.1"));
        assert_eq!(f("%d%%", Const::Int(5)).as_deref(), Some("5%"));
        assert_eq!(f("%(default)s", Const::Int(5)), None);
    }
}
