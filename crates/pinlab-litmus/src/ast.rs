//! Syntax tree of a litmus scenario.
//!
//! The parser is deliberately generic about statements: every statement has the
//! shape `[NAME =] VERB ARG* [= VALUE]`, and it is the compiler (`compile.rs`) that
//! knows which verbs exist and what arguments each takes. That keeps the grammar
//! small and lets the compiler give verb-specific diagnostics ("`mmap` needs
//! `pages=A..B`") with the span of the offending argument.

use std::ops::Range;

/// A byte range in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start as usize, s.len()).into()
    }
}

/// An identifier with its span. Identifiers may contain `-` after the first
/// character (`seed-rdma-writeback`), since the language has no subtraction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A number literal (decimal or `0x` hex) with its span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Number {
    pub value: u64,
    pub span: Span,
}

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// `litmus NAME`
    pub name: Ident,
    /// `doc "..."`, the string without quotes (escapes `\"` and `\\` resolved).
    pub doc: Option<(String, Span)>,
    /// `setup { ... }`; empty when absent.
    pub setup: Vec<Stmt>,
    /// `thread NAME [on PROC] { ... }` blocks in source order.
    pub threads: Vec<ThreadBlock>,
    /// `finally { ... }`; `None` when absent.
    pub finally: Option<Block>,
    /// `forbid` / `exists` / `always` lines in source order.
    pub conds: Vec<CondDecl>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// From the keyword to the closing brace.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadBlock {
    pub name: Ident,
    /// `on PROC`
    pub on: Option<Ident>,
    pub body: Block,
}

/// `[bind =] verb arg* [= value]`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub bind: Option<Ident>,
    pub verb: Verb,
    pub args: Vec<Arg>,
    /// The trailing `= VALUE` of `store m[0] = 0x11`, `n.write mr[0] = 0x22`.
    pub assign: Option<Value>,
    /// The whole statement.
    pub span: Span,
}

/// `store` or `n.reg_mr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verb {
    Plain(Ident),
    Method { object: Ident, method: Ident },
}

impl Verb {
    pub fn span(&self) -> Span {
        match self {
            Verb::Plain(v) => v.span,
            Verb::Method { object, method } => object.span.join(method.span),
        }
    }
}

/// One argument of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A bare value: `f`, `shared`, `0x11`, `m[0]`, `0..2`.
    Value(Value),
    /// `key=value`: `pages=0..2`, `type=csumfs`, `fill=0xAA`.
    Key { key: Ident, value: Value },
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Value(v) => v.span(),
            Arg::Key { key, value } => key.span.join(value.span()),
        }
    }
}

/// The value forms that can appear as an argument or after `=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Word(Ident),
    Number(Number),
    /// `X[p]`
    Index {
        base: Ident,
        index: Number,
        span: Span,
    },
    /// `A..B` (end exclusive, as in Rust)
    Range {
        start: Number,
        end: Number,
        span: Span,
    },
    /// `"text"`
    Str(String, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Word(i) => i.span,
            Value::Number(n) => n.span,
            Value::Index { span, .. } | Value::Range { span, .. } | Value::Str(_, span) => *span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondKind {
    Forbid,
    Exists,
    Always,
}

impl CondKind {
    pub fn keyword(self) -> &'static str {
        match self {
            CondKind::Forbid => "forbid",
            CondKind::Exists => "exists",
            CondKind::Always => "always",
        }
    }
}

/// `forbid C` / `exists C` / `always C`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondDecl {
    pub kind: CondKind,
    pub expr: CondExpr,
    /// The whole line, keyword included.
    pub span: Span,
    /// The condition's source text after the keyword, trimmed (for reports).
    pub text: String,
}

/// Boolean condition over a final state. Precedence: `not` > `and` > `or`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CondExpr {
    /// An oracle name: `checksum_error`, `deadlock`, `kernel_bug`.
    Name(Ident),
    /// `kernel_bug(page_without_buffers)`, `torn(f[0])`.
    Call {
        func: Ident,
        arg: Operand,
        span: Span,
    },
    /// `f[0] == 0x22`, `app.r == 0x11`, `app.err == EFAULT`.
    Eq {
        lhs: Operand,
        rhs: Operand,
        span: Span,
    },
    Not(Box<CondExpr>, Span),
    And(Box<CondExpr>, Box<CondExpr>),
    Or(Box<CondExpr>, Box<CondExpr>),
}

impl CondExpr {
    pub fn span(&self) -> Span {
        match self {
            CondExpr::Name(i) => i.span,
            CondExpr::Call { span, .. } | CondExpr::Eq { span, .. } | CondExpr::Not(_, span) => *span,
            CondExpr::And(a, b) | CondExpr::Or(a, b) => a.span().join(b.span()),
        }
    }
}

/// Operands of condition atoms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// `EFAULT`, `page_without_buffers`
    Word(Ident),
    /// `0x22`
    Number(Number),
    /// `f[0]`
    Index { base: Ident, index: Number, span: Span },
    /// `app.r`, `app.err`
    Field { object: Ident, field: Ident },
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Word(i) => i.span,
            Operand::Number(n) => n.span,
            Operand::Index { span, .. } => *span,
            Operand::Field { object, field } => object.span.join(field.span),
        }
    }
}
