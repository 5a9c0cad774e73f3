//! Diagnostics: every bad input becomes one of these, pointing at file:line:col.
//!
//! A `Diag` is a single located message; `Diags` is the non-empty list a parse or
//! compile returns, rendered by miette with the source attached so the user sees
//! `file:line:col`, the offending text underlined, and a hint.

use crate::ast::Span;
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use std::fmt;
use std::sync::Arc;

/// One located problem in a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    /// What is wrong, one sentence, lower case: "unknown verb `stor`".
    pub message: String,
    pub span: Span,
    /// Short text under the underline: "expected a verb here".
    pub label: String,
    /// Optional hint: "did you mean `store`?"
    pub help: Option<String>,
}

impl Diag {
    pub fn new(span: Span, message: impl Into<String>) -> Diag {
        Diag { message: message.into(), span, label: String::new(), help: None }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diag {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diag {
        self.help = Some(help.into());
        self
    }
}

/// The source a scenario came from: its name (a path, or `<builtin>/...`) and text.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: Arc<str>,
    /// Byte offset of the start of each line, so locating a span costs a
    /// binary search, not a scan from the top (the compiler locates every
    /// statement: scanning made a long file quadratic).
    line_starts: Arc<[u32]>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Source {
        let text: Arc<str> = text.into();
        let line_starts =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i as u32 + 1)).collect();
        Source { name: name.into(), text, line_starts }
    }

    /// 1-based line and column of a byte offset (columns count chars).
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        // The last line start at or before the offset.
        let line = self.line_starts.partition_point(|&s| s as usize <= offset);
        let start = self.line_starts[line - 1] as usize;
        let col = self.text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// `file:line:col` of a span's start.
    pub fn locate(&self, span: Span) -> String {
        let (l, c) = self.line_col(span.start);
        format!("{}:{l}:{c}", self.name)
    }
}

/// At most this many diagnostics are shown; the rest are counted ("and K
/// more"): a file with 100,000 errors must not print 100,000 reports.
pub const MAX_SHOWN: usize = 20;

/// One or more diagnostics against one source. Implements `miette::Diagnostic`
/// (the first is the main one; the rest are `related`).
#[derive(Debug)]
pub struct Diags {
    pub source: Source,
    pub diags: Vec<Diag>,
    named: NamedSource<Arc<str>>,
    /// `diags[1..]` as miette diagnostics, built once so `related` can borrow them.
    related: Vec<Related>,
}

impl Diags {
    pub fn new(source: &Source, mut diags: Vec<Diag>) -> Diags {
        assert!(!diags.is_empty(), "Diags needs at least one diagnostic");
        diags.sort_by_key(|d| d.span.start);
        diags.dedup();
        let named = NamedSource::new(source.name.clone(), source.text.clone());
        let related = diags[1..diags.len().min(MAX_SHOWN)]
            .iter()
            .map(|d| Related { diag: d.clone(), location: source.locate(d.span), named: named.clone() })
            .collect();
        Diags { source: source.clone(), diags, named, related }
    }

    pub fn one(source: &Source, diag: Diag) -> Diags {
        Diags::new(source, vec![diag])
    }

    /// Plain one-line-per-problem text: `file:line:col: error: message`.
    /// Used where a fancy report would be noise (JSON mode, tests).
    pub fn to_plain(&self) -> String {
        let mut out = String::new();
        for d in self.diags.iter().take(MAX_SHOWN) {
            out.push_str(&format!("{}: error: {}", self.source.locate(d.span), d.message));
            if let Some(h) = &d.help {
                out.push_str(&format!(" (help: {h})"));
            }
            out.push('\n');
        }
        if let Some(more) = self.hidden() {
            // Located at the first one not shown, like every other line.
            let at = self.source.locate(self.diags[MAX_SHOWN].span);
            out.push_str(&format!("{at}: error: and {more} more error(s) not shown\n"));
        }
        out
    }

    /// How many diagnostics are not shown, if any.
    pub fn hidden(&self) -> Option<usize> {
        (self.diags.len() > MAX_SHOWN).then(|| self.diags.len() - MAX_SHOWN)
    }

    /// The diagnostics as JSON objects (`file`, `line`, `column`, `message`,
    /// `label`, `help`), every one of them, for `--json` output.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        self.diags
            .iter()
            .map(|d| {
                let (line, column) = self.source.line_col(d.span.start);
                serde_json::json!({
                    "file": self.source.name,
                    "line": line,
                    "column": column,
                    "severity": "error",
                    "message": d.message,
                    "label": d.label,
                    "help": d.help,
                })
            })
            .collect()
    }
}

impl fmt::Display for Diags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.diags[0];
        write!(f, "{}: {}", self.source.locate(d.span), d.message)?;
        if let Some(more) = self.hidden() {
            write!(f, " (and {more} more error(s) not shown)")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diags {}

/// A secondary diagnostic carried in `related`.
#[derive(Debug)]
struct Related {
    diag: Diag,
    location: String,
    named: NamedSource<Arc<str>>,
}

impl fmt::Display for Related {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.diag.message)
    }
}

impl std::error::Error for Related {}

impl Diagnostic for Related {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.named)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(labeled(&self.diag))))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag.help.as_ref().map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
}

fn labeled(d: &Diag) -> LabeledSpan {
    let label = if d.label.is_empty() { None } else { Some(d.label.clone()) };
    LabeledSpan::new_with_span(label, d.span)
}

impl Diagnostic for Diags {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("pinlab::litmus"))
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.named)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(labeled(&self.diags[0]))))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diags[0].help.as_ref().map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }
}
