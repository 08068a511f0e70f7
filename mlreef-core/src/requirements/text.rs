//! From bytes to logical lines, in pip's order: decode, split, join `\` continuations, drop
//! comments and blank lines, expand `${VAR}`.

use std::collections::HashMap;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Decodes a requirements file as pip does: a byte-order mark wins, then a PEP 263 coding
/// comment on one of the first two lines, then UTF-8. pip falls back to the locale's encoding
/// where UTF-8 fails; a build must not depend on the locale, so that is an error here.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    const BOMS: &[(&[u8], &str)] = &[
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ];
    for (bom, encoding) in BOMS {
        if let Some(rest) = bytes.strip_prefix(*bom) {
            return decode_with(rest, encoding);
        }
    }
    for line in bytes.split(|&b| b == b'\n').take(2) {
        if line.first() == Some(&b'#')
            && let Some(encoding) = coding_declaration(line)
        {
            return decode_with(bytes, &encoding);
        }
    }
    decode_with(bytes, "utf-8")
}

/// The encoding named by `coding[:=]\s*([-\w.]+)` in a comment line.
fn coding_declaration(line: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(at) = find(&line[from..], b"coding") {
        let rest = &line[from + at + b"coding".len()..];
        if let Some((&(b':' | b'='), after)) = rest.split_first() {
            let start = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let name: Vec<u8> = after[start..]
                .iter()
                .copied()
                .take_while(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                .collect();
            if !name.is_empty() {
                return Some(String::from_utf8_lossy(&name).into_owned());
            }
        }
        from += at + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn decode_with(bytes: &[u8], encoding: &str) -> Result<String, DecodeError> {
    let normalized = encoding.to_ascii_lowercase().replace('_', "-");
    match normalized.as_str() {
        "utf-8" | "utf8" | "u8" | "utf" | "utf-8-sig" => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text).to_owned()),
            Err(error) => Err(invalid_utf8(bytes, error.valid_up_to())),
        },
        // Python's latin-1 maps every byte to the code point of the same value; the WHATWG
        // label `latin1` would mean windows-1252 instead.
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "8859" | "cp819" | "l1" => {
            Ok(bytes.iter().map(|&b| char::from(b)).collect())
        }
        "ascii" | "us-ascii" | "646" => match bytes.iter().position(|b| !b.is_ascii()) {
            None => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            Some(at) => Err(error_at(
                bytes,
                at,
                format!(
                    "byte 0x{:02x} is not ASCII, as the coding line declares",
                    bytes[at]
                ),
            )),
        },
        "utf-32-le" | "utf-32le" | "utf-32-be" | "utf-32be" | "utf-32" | "utf32" => {
            decode_utf32(bytes, !normalized.ends_with("be"))
        }
        "utf-16-le" | "utf-16le" | "utf-16" | "utf16" | "utf-16-be" | "utf-16be" => {
            let big_endian = normalized.ends_with("be");
            let codec = if big_endian {
                encoding_rs::UTF_16BE
            } else {
                encoding_rs::UTF_16LE
            };
            decode_codec(bytes, codec, encoding)
        }
        other => match encoding_rs::Encoding::for_label(other.as_bytes()) {
            Some(codec) => decode_codec(bytes, codec, encoding),
            None => Err(DecodeError {
                line: 1,
                column: 1,
                message: format!("unknown encoding `{encoding}` in the coding line"),
            }),
        },
    }
}

fn decode_codec(
    bytes: &[u8],
    codec: &'static encoding_rs::Encoding,
    name: &str,
) -> Result<String, DecodeError> {
    let (text, had_errors) = codec.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(DecodeError {
            line: 1,
            column: 1,
            message: format!("the file is not valid `{name}` text"),
        });
    }
    Ok(text.into_owned())
}

fn decode_utf32(bytes: &[u8], little_endian: bool) -> Result<String, DecodeError> {
    let mut text = String::with_capacity(bytes.len() / 4);
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let unit = <[u8; 4]>::try_from(chunk).ok().map(|b| {
            if little_endian {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        });
        match unit.and_then(char::from_u32) {
            Some(c) => text.push(c),
            None => {
                return Err(DecodeError {
                    line: text.matches('\n').count() + 1,
                    column: 1,
                    message: format!("invalid UTF-32 code unit at byte {}", index * 4),
                });
            }
        }
    }
    Ok(text)
}

fn invalid_utf8(bytes: &[u8], at: usize) -> DecodeError {
    error_at(
        bytes,
        at,
        format!(
            "not UTF-8 text (invalid byte 0x{:02x}); save it as UTF-8 or declare its encoding \
             with a `# -*- coding: ... -*-` first line",
            bytes[at]
        ),
    )
}

fn error_at(bytes: &[u8], at: usize, message: String) -> DecodeError {
    let before = &bytes[..at];
    let line = before.split(|&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&bytes[line_start..at])
        .chars()
        .count()
        + 1;
    DecodeError {
        line,
        column,
        message,
    }
}

/// Python's `str.splitlines()`: every line boundary Python knows, `\r\n` as one.
pub(crate) fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let boundary = rest.char_indices().find(|&(_, c)| {
            matches!(
                c,
                '\n' | '\r'
                    | '\u{0b}'
                    | '\u{0c}'
                    | '\u{1c}'
                    | '\u{1d}'
                    | '\u{1e}'
                    | '\u{85}'
                    | '\u{2028}'
                    | '\u{2029}'
            )
        });
        let (line, next) = match boundary {
            None => (rest, ""),
            Some((at, c)) => {
                let width = if rest[at..].starts_with("\r\n") {
                    2
                } else {
                    c.len_utf8()
                };
                (&rest[..at], &rest[at + width..])
            }
        };
        rest = next;
        Some(line)
    })
}

/// A line as pip reads it once continuations are joined, comments dropped and variables
/// expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogicalLine {
    /// 1-based number of the physical line where it starts.
    pub number: usize,
    /// The text after comment removal and `${VAR}` expansion.
    pub text: String,
    /// Variables that were expanded on this line, as (name, value).
    pub expanded: Vec<(String, String)>,
    /// Variables referenced but unset or empty, left as written (as pip leaves them).
    pub unset: Vec<String>,
}

/// Whether pip's `COMMENT_RE.match` holds: the line is a comment from its first character.
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// pip's `COMMENT_RE.sub("", line).strip()`: a `#` at the start or after white space starts a
/// comment; a `#` inside a word (a URL fragment) does not.
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (at, c) in line.char_indices() {
        if c == '#' && previous_is_space {
            return line[..at].trim();
        }
        previous_is_space = c.is_whitespace();
    }
    line.trim()
}

/// Splits, joins, strips and expands, exactly in pip's `preprocess` order.
pub(crate) fn logical_lines(text: &str, env: &HashMap<String, String>) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let mut emit = |number: usize, joined: &str| {
        let stripped = strip_comment(joined);
        if !stripped.is_empty() {
            out.push(expand(number, stripped, env));
        }
    };
    for (index, line) in split_lines(text).enumerate() {
        let number = index + 1;
        let comment = is_comment_line(line);
        if !line.ends_with('\\') || comment {
            // pip puts a space before a comment line so that it still reads as a comment
            // once it has been glued to a continued line.
            let piece = if comment {
                format!(" {line}")
            } else {
                line.to_owned()
            };
            match pending.take() {
                Some((start, mut joined)) => {
                    joined.push_str(&piece);
                    emit(start, &joined);
                }
                None => emit(number, &piece),
            }
        } else {
            let piece = line.trim_matches('\\');
            match &mut pending {
                Some((_, joined)) => joined.push_str(piece),
                None => pending = Some((number, piece.to_owned())),
            }
        }
    }
    if let Some((start, joined)) = pending {
        emit(start, &joined);
    }
    out
}

/// `${NAME}` with NAME in `[A-Z0-9_]+`, replaced when the variable is set and not empty.
fn expand(number: usize, line: &str, env: &HashMap<String, String>) -> LogicalLine {
    let mut references = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("${") {
        let after = &rest[at + 2..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if len > 0 && after[len..].starts_with('}') {
            references.push(after[..len].to_owned());
            rest = &after[len + 1..];
        } else {
            rest = after;
        }
    }
    let mut text = line.to_owned();
    let mut expanded = Vec::new();
    let mut unset = Vec::new();
    for name in references {
        match env.get(&name).filter(|value| !value.is_empty()) {
            Some(value) => {
                text = text.replace(&format!("${{{name}}}"), value);
                if !expanded.iter().any(|(n, _)| n == &name) {
                    expanded.push((name, value.clone()));
                }
            }
            None => {
                if !unset.contains(&name) {
                    unset.push(name);
                }
            }
        }
    }
    LogicalLine {
        number,
        text,
        expanded,
        unset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, String)> {
        logical_lines(text, &HashMap::new())
            .into_iter()
            .map(|l| (l.number, l.text))
            .collect()
    }

    #[test]
    fn continuation_comments_and_fragments() {
        let text = "a \\\n  >=1 \\\n # c \\\nb#egg=x # note\n\\\n";
        assert_eq!(
            lines(text),
            vec![(1, "a   >=1".to_owned()), (4, "b#egg=x".to_owned())]
        );
    }

    #[test]
    fn python_line_boundaries() {
        let parts: Vec<_> = split_lines("a\r\nb\rc\u{2028}d\x0ce").collect();
        assert_eq!(parts, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn coding_line_and_boms() {
        assert_eq!(
            decode(b"# -*- coding: latin-1 -*-\n# caf\xe9\nx\n")
                .unwrap()
                .lines()
                .nth(1),
            Some("# café")
        );
        assert_eq!(decode(b"\xff\xfea\x00\n\x00").unwrap(), "a\n");
        assert_eq!(decode(b"\xef\xbb\xbfa").unwrap(), "a");
        let error = decode(b"ok\nb\xffd").unwrap_err();
        assert_eq!((error.line, error.column), (2, 2));
    }

    #[test]
    fn variables() {
        let env = HashMap::from([
            ("A".to_owned(), "1".to_owned()),
            ("E".to_owned(), String::new()),
        ]);
        let line = &logical_lines("x==${A} ${A} ${E} ${B} $A ${a}", &env)[0];
        assert_eq!(line.text, "x==1 1 ${E} ${B} $A ${a}");
        assert_eq!(line.unset, ["E", "B"]);
    }
}
