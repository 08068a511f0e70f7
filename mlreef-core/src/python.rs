//! The one place that knows which Python parser we use.
//!
//! Everything else sees [`ParsedModule`] (a syntax tree plus a line index) and the AST types
//! re-exported as [`ast`]. Swapping the parser means changing this module and the AST walkers
//! in `argparse`/`decorators`, nothing else.

pub(crate) use ruff_python_ast as ast;
use ruff_python_ast::token::TokenKind;
pub(crate) use ruff_text_size::{Ranged, TextRange, TextSize};

/// `CPython`'s tokenizer refuses more than this many open brackets ("too many nested
/// parentheses"); we refuse the same inputs, which also bounds the depth of the trees we walk.
const MAX_BRACKET_DEPTH: usize = 200;

/// A syntax error, positioned the way Python reports it (1-based line and character column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Maps byte offsets to 1-based line and character columns.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    #[must_use]
    pub fn new(source: &str) -> Self {
        let mut starts = vec![0];
        let bytes = source.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                // A lone `\r` ends a line for Python too.
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        Self { starts }
    }

    /// 1-based line and 1-based column in characters of a byte offset.
    #[must_use]
    pub fn position(&self, source: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(source.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let column = source
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, column + 1)
    }
}

/// A parsed Python module.
pub struct ParsedModule {
    parsed: ruff_python_parser::Parsed<ast::ModModule>,
    lines: LineIndex,
}

impl ParsedModule {
    pub(crate) fn body(&self) -> &[ast::Stmt] {
        &self.parsed.syntax().body
    }

    pub fn lines(&self) -> &LineIndex {
        &self.lines
    }
}

/// Parses a module. Invalid syntax is an error carrying the first problem's position.
pub fn parse_module(source: &str) -> Result<ParsedModule, SyntaxError> {
    let lines = LineIndex::new(source);
    let error_at = |offset: TextSize, message: String| {
        let (line, column) = lines.position(source, offset.to_usize());
        SyntaxError {
            message,
            line,
            column,
        }
    };
    let parsed = ruff_python_parser::parse_module(source)
        .map_err(|e| error_at(e.location.start(), e.error.to_string()))?;
    let mut depth = 0usize;
    for token in parsed.tokens() {
        match token.kind() {
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Err(error_at(
                        token.start(),
                        format!("too many nested parentheses (more than {MAX_BRACKET_DEPTH})"),
                    ));
                }
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    Ok(ParsedModule { parsed, lines })
}

/// Runs `f` on a stack large enough for the deepest tree `source_len` bytes can produce.
///
/// Syntax trees are dropped and walked recursively. A long chain such as `1+1+1+...` nests one
/// node per operator, so the stack a walk needs grows with the input, not with its brackets.
/// A new stack is only made when the current one has less room than that; it is reserved
/// address space, and only the pages a walk touches are ever committed.
pub fn with_stack_for<T>(source_len: usize, f: impl FnOnce() -> T) -> T {
    // Room for the interpreter's own depth limits on a small script: the bad-input tests run
    // the deepest cases on 2 MiB test threads, where this is the stack they get.
    const MIN: usize = 4 << 20;
    // Enough for the largest script read (16 MiB, the source module's limit).
    const MAX: usize = 4 << 30;
    let mut size = source_len.saturating_mul(256).clamp(MIN, MAX);
    // stacker panics when the stack cannot be mapped, as under an address-space limit
    // (`ulimit -v`) smaller than the reservation: probe for the room first and ask for less
    // when there is none (a realistic script needs far less than the worst case).
    while size > MIN && Vec::<u8>::new().try_reserve_exact(size).is_err() {
        size /= 2;
    }
    let size = size.max(MIN);
    stacker::maybe_grow(size, size, f)
}
