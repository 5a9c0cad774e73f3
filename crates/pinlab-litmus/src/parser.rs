//! Parser: tokens to [`ast::Scenario`].
//!
//! A hand-written recursive-descent parser. It is purely syntactic: it does not
//! know which verbs, oracles or setup objects exist (the compiler does), so any
//! statement of the shape `[NAME =] VERB ARG* [= VALUE]` parses.
//!
//! Grammar (newlines and `;` separate items and statements):
//!
//! ```text
//! file      := item*
//! item      := 'litmus' IDENT | 'doc' STR | 'setup' block | 'finally' block
//!            | 'thread' IDENT ['on' IDENT] block
//!            | ('forbid' | 'exists' | 'always') cond
//! block     := '{' (stmt (NEWLINE | ';'))* '}'
//! stmt      := [IDENT '='] verb arg* ['=' value]
//! verb      := IDENT ['.' IDENT]
//! arg       := IDENT '=' value                          -- key: no space before `=`
//!            | value
//! value     := IDENT | IDENT '[' NUMBER ']' | NUMBER | NUMBER '..' NUMBER | STR
//! cond      := and ('or' and)*
//! and       := not ('and' not)*
//! not       := 'not' not | '(' cond ')' | atom
//! atom      := operand ('==' | '!=') operand | IDENT '(' operand ')' | IDENT
//! operand   := IDENT | IDENT '[' NUMBER ']' | IDENT '.' IDENT | NUMBER
//! ```
//!
//! A block's `{` usually ends the keyword's line but may open on a later one. The
//! eight top-level keywords are not verbs: at the start of a statement one of them
//! means the block's `}` is missing (reported, and the item is parsed).
//!
//! Errors are collected, not returned at the first one: after a bad statement or
//! item the parser skips to the next newline, `;` or `}` and goes on, so a run
//! reports up to [`MAX_ERRORS`] problems at once.

use crate::ast::{
    self, Arg, Block, CondDecl, CondExpr, CondKind, Ident, Number, Operand, Span, Stmt, Value, Verb,
};
use crate::diag::{Diag, Diags, Source};
use crate::lexer::{self, TokKind, Token};

/// Stop after this many errors (one more says so).
const MAX_ERRORS: usize = 20;

/// Deepest nesting of `not` and parentheses in a condition. Bounds the parser's
/// recursion, and the recursion of everything that later walks the tree.
const MAX_COND_DEPTH: usize = 64;

/// Most atoms in one condition. `a or a or ...` builds a left-leaning tree whose
/// depth is its length, so this too bounds recursion over the tree (drop included).
const MAX_COND_TERMS: usize = 256;

/// Words that start a top-level item.
const TOP_KEYWORDS: [&str; 8] = ["litmus", "doc", "setup", "thread", "finally", "forbid", "exists", "always"];

/// Parse a scenario. Returns every syntax error found (up to [`MAX_ERRORS`]).
// `Diags` is large, but it is built at most once per parse: boxing it would only
// complicate the crate's entry point.
#[allow(clippy::result_large_err)]
pub fn parse(source: &Source) -> Result<ast::Scenario, Diags> {
    let lexed = lexer::lex(&source.text);
    let mut p = Parser {
        source,
        text: &source.text,
        toks: lexed.tokens,
        pos: 0,
        prev_end: 0,
        diags: lexed.diags,
        name: None,
        doc: None,
        setup: None,
        threads: Vec::new(),
        finally: None,
        conds: Vec::new(),
        litmus_seen: false,
        doc_seen: None,
        stopped: false,
    };
    p.file();
    p.finish()
}

/// Marker that an error was reported and the caller should recover.
struct Fail;

type PResult<T> = Result<T, Fail>;

struct Parser<'a> {
    source: &'a Source,
    text: &'a str,
    /// Never empty: the lexer always ends the list with `Eof`.
    toks: Vec<Token>,
    pos: usize,
    /// End of the last consumed token: the end of spans of finished constructs.
    prev_end: usize,
    diags: Vec<Diag>,

    name: Option<Ident>,
    doc: Option<(String, Span)>,
    /// `setup` block: its statements and the keyword's span (for duplicates).
    setup: Option<(Vec<Stmt>, Span)>,
    threads: Vec<ast::ThreadBlock>,
    finally: Option<Block>,
    conds: Vec<CondDecl>,
    /// A `litmus` keyword was seen, even if its line was malformed (so that a bad
    /// `litmus` line is not also reported as missing).
    litmus_seen: bool,
    /// Span of the first `doc` keyword (for duplicates).
    doc_seen: Option<Span>,
    /// Parsing stopped early because there were too many errors.
    stopped: bool,
}

impl Parser<'_> {
    // ---- token access ------------------------------------------------------------

    fn peek(&self) -> &Token {
        self.nth(0)
    }

    /// The token `n` ahead of the current one (`Eof` past the end).
    fn nth(&self, n: usize) -> &Token {
        let last = self.toks.len() - 1;
        &self.toks[(self.pos + n).min(last)]
    }

    fn bump(&mut self) -> Token {
        let tok = self.peek().clone();
        if tok.kind != TokKind::Eof {
            self.pos += 1;
            self.prev_end = tok.span.end as usize;
        }
        tok
    }

    fn at(&self, kind: &TokKind) -> bool {
        &self.peek().kind == kind
    }

    /// The current token is the identifier `word`.
    fn at_word(&self, word: &str) -> bool {
        let t = self.peek();
        t.kind == TokKind::Ident && t.text(self.text) == word
    }

    /// End of an item or statement (the `;`/newline is not consumed).
    fn at_line_end(&self) -> bool {
        matches!(self.peek().kind, TokKind::Newline | TokKind::Semi | TokKind::Eof)
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek().kind, TokKind::Newline | TokKind::Semi) {
            self.bump();
        }
    }

    fn ident(&self, tok: &Token) -> Ident {
        Ident { name: tok.text(self.text).to_string(), span: tok.span }
    }

    fn line_of(&self, span: Span) -> usize {
        self.source.line_col(span.start).0
    }

    // ---- errors ------------------------------------------------------------------

    /// There are enough errors before the current token to stop; remembers that
    /// parsing stopped early. (Lexer errors further on do not count yet, so they do
    /// not hide parse errors earlier in the file.)
    fn too_many(&mut self) -> bool {
        let here = self.peek().span.start;
        self.stopped |= self.diags.iter().filter(|d| d.span.start <= here).count() >= MAX_ERRORS;
        self.stopped
    }

    /// Record a diagnostic about the current token — unless that token is one the
    /// lexer already reported, in which case a second message would only repeat it.
    fn report(&mut self, diag: Diag) -> Fail {
        if self.peek().kind != TokKind::Error {
            self.diags.push(diag);
        }
        Fail
    }

    /// Where to point for "expected X, found <current token>": the token itself, or,
    /// when the line or file ended too early, the spot right after the last token.
    fn found_span(&self) -> Span {
        match self.peek().kind {
            TokKind::Newline | TokKind::Eof => Span::new(self.prev_end, self.prev_end),
            _ => self.peek().span,
        }
    }

    /// "expected WHAT, found <current token>", pointing at the current token.
    fn expected(&self, what: &str) -> Diag {
        let found = self.peek().describe(self.text);
        Diag::new(self.found_span(), format!("expected {what}, found {found}"))
            .label(format!("expected {what}"))
    }

    /// Consume an identifier, or report "expected WHAT".
    fn expect_ident(&mut self, what: &str) -> PResult<Ident> {
        if self.at(&TokKind::Ident) {
            let t = self.bump();
            Ok(self.ident(&t))
        } else {
            let d = self.expected(what);
            Err(self.report(d))
        }
    }

    fn expect_number(&mut self, what: &str) -> PResult<Number> {
        if let TokKind::Number(value) = self.peek().kind {
            let t = self.bump();
            Ok(Number { value, span: t.span })
        } else {
            let d = self.expected(what);
            Err(self.report(d))
        }
    }

    /// Skip the rest of a bad top-level item: to the end of its line, or, if a
    /// `{` opens on that line, past the matching `}` — but stop early at a line
    /// starting with a top-level keyword, in case that `}` is missing.
    fn recover_item(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek().kind {
                TokKind::Eof => return,
                TokKind::Newline | TokKind::Semi if depth == 0 => return,
                TokKind::Newline => {
                    self.bump();
                    if self.at_top_keyword() {
                        return;
                    }
                    continue;
                }
                TokKind::LBrace => depth += 1,
                TokKind::RBrace => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Skip the rest of a bad statement, leaving a closing `}` for the block.
    fn recover_stmt(&mut self) {
        while !matches!(self.peek().kind, TokKind::Newline | TokKind::Semi | TokKind::RBrace | TokKind::Eof) {
            self.bump();
        }
    }

    /// The current token is a top-level keyword used as one (not `doc = ...` or
    /// `doc.x`, which could only be statements).
    fn at_top_keyword(&self) -> bool {
        let t = self.peek();
        t.kind == TokKind::Ident
            && TOP_KEYWORDS.contains(&t.text(self.text))
            && !matches!(self.nth(1).kind, TokKind::Eq | TokKind::Dot)
    }

    // ---- top level ---------------------------------------------------------------

    fn file(&mut self) {
        loop {
            self.skip_separators();
            if self.at(&TokKind::Eof) || self.too_many() {
                return;
            }
            if self.item().is_ok() {
                // An item normally stops before its line's end. It may also stop
                // after a newline: a block missing its `}` ends before the next
                // top-level keyword.
                let after_newline = self.pos > 0 && self.toks[self.pos - 1].kind == TokKind::Newline;
                if self.at_line_end() || after_newline {
                    continue;
                }
                let d = self.expected("end of line").help("put each item on its own line");
                self.report(d);
            }
            self.recover_item();
        }
    }

    fn item(&mut self) -> PResult<()> {
        let tok = self.peek().clone();
        match tok.kind {
            TokKind::Ident => {}
            TokKind::RBrace => {
                let d = Diag::new(tok.span, "unexpected `}`").label("no block is open here");
                self.report(d);
                self.bump();
                return Err(Fail);
            }
            _ => {
                let d = self.expected("a top-level item").help(
                    "a scenario is made of `litmus`, `doc`, `setup`, `thread`, `finally`, `forbid`, \
                     `exists` and `always` items",
                );
                return Err(self.report(d));
            }
        }
        match tok.text(self.text) {
            "litmus" => self.litmus(),
            "doc" => self.doc(),
            "setup" => self.setup(),
            "thread" => self.thread(),
            "finally" => self.finally(),
            "forbid" => self.cond_decl(CondKind::Forbid),
            "exists" => self.cond_decl(CondKind::Exists),
            "always" => self.cond_decl(CondKind::Always),
            word => {
                let d = Diag::new(tok.span, format!("unknown top-level keyword `{word}`"))
                    .label("expected a top-level keyword");
                let d = match suggest(word, &TOP_KEYWORDS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(
                        "top-level items start with `litmus`, `doc`, `setup`, `thread`, `finally`, \
                         `forbid`, `exists` or `always`; statements belong inside a block",
                    ),
                };
                Err(self.report(d))
            }
        }
    }

    /// A "duplicate X" error at `kw`, pointing back to the first one's line.
    fn duplicate(&mut self, kw: &Token, what: &str, first: Span) {
        let d = Diag::new(kw.span, format!("duplicate {what}"))
            .label(format!("second {what}"))
            .help(format!("the first {what} is at line {}", self.line_of(first)));
        self.diags.push(d);
    }

    fn litmus(&mut self) -> PResult<()> {
        let kw = self.bump();
        self.litmus_seen = true;
        let name = self.expect_ident("a scenario name after `litmus`")?;
        match &self.name {
            Some(first) => {
                let first = first.span;
                self.duplicate(&kw, "`litmus` line", first);
            }
            None => self.name = Some(name),
        }
        Ok(())
    }

    fn doc(&mut self) -> PResult<()> {
        let kw = self.bump();
        let TokKind::Str(text) = self.peek().kind.clone() else {
            let d = self.expected("a string after `doc`").help("write `doc \"what this scenario shows\"`");
            return Err(self.report(d));
        };
        let t = self.bump();
        match self.doc_seen {
            Some(first) => self.duplicate(&kw, "`doc` line", first),
            None => {
                self.doc_seen = Some(kw.span);
                self.doc = Some((text, t.span));
            }
        }
        Ok(())
    }

    fn setup(&mut self) -> PResult<()> {
        let kw = self.bump();
        if let Some((_, first)) = self.setup {
            self.duplicate(&kw, "`setup` block", first);
            self.block(&kw, "`setup` block")?;
        } else {
            let block = self.block(&kw, "`setup` block")?;
            self.setup = Some((block.stmts, kw.span));
        }
        Ok(())
    }

    fn finally(&mut self) -> PResult<()> {
        let kw = self.bump();
        if let Some(first) = &self.finally {
            let first = first.span;
            self.duplicate(&kw, "`finally` block", first);
            self.block(&kw, "`finally` block")?;
        } else {
            let block = self.block(&kw, "`finally` block")?;
            self.finally = Some(block);
        }
        Ok(())
    }

    fn thread(&mut self) -> PResult<()> {
        let kw = self.bump();
        let header = self.thread_header();
        if header.is_err() {
            // Still parse the body, if it opens on this line, to report its errors
            // too (and not mistake its statements for top-level items).
            while !self.at_line_end() && !self.at(&TokKind::LBrace) {
                self.bump();
            }
            if !self.at(&TokKind::LBrace) {
                return Err(Fail);
            }
        }
        let what = match &header {
            Ok((name, _)) => format!("`thread {}` block", name.name),
            Err(_) => "`thread` block".to_string(),
        };
        let body = self.block(&kw, &what)?;
        if let Ok((name, on)) = header {
            self.threads.push(ast::ThreadBlock { name, on, body });
        }
        Ok(())
    }

    fn thread_header(&mut self) -> PResult<(Ident, Option<Ident>)> {
        let name = self.expect_ident("a thread name after `thread`")?;
        let on = if self.at_word("on") {
            self.bump();
            Some(self.expect_ident("a process name after `on`")?)
        } else {
            None
        };
        Ok((name, on))
    }

    // ---- blocks and statements ---------------------------------------------------

    /// `{ stmt* }` after the keyword `kw`; `what` names the block in messages.
    ///
    /// The `{` may also open on a later line. Without any `{`, if the keyword's line
    /// has nothing more, the error is reported and the following lines are parsed
    /// as the block's body anyway (to the `}` or the next top-level keyword): that
    /// recovers well from a forgotten `{` and avoids a cascade of errors.
    fn block(&mut self, kw: &Token, what: &str) -> PResult<Block> {
        let mut blank_lines = 0;
        while self.nth(blank_lines).kind == TokKind::Newline {
            blank_lines += 1;
        }
        let (open, implicit) = if self.nth(blank_lines).kind == TokKind::LBrace {
            for _ in 0..blank_lines {
                self.bump();
            }
            (self.bump().span, false)
        } else {
            let d = self.expected(&format!("`{{` to open the {what}"));
            self.report(d);
            if !self.at(&TokKind::Newline) {
                return Err(Fail);
            }
            (self.found_span(), true)
        };
        let mut stmts = Vec::new();
        loop {
            self.skip_separators();
            if self.too_many() {
                return Err(Fail);
            }
            if self.at(&TokKind::RBrace) {
                let close = self.bump();
                return Ok(Block { stmts, span: kw.span.join(close.span) });
            }
            // End of file, or a top-level keyword (which cannot be a verb): the
            // closing brace is missing. Leave the keyword for the top level.
            if self.at(&TokKind::Eof) || self.at_top_keyword() {
                if implicit {
                    // The missing `{` is already reported.
                    return Ok(Block { stmts, span: kw.span.join(Span::new(self.prev_end, self.prev_end)) });
                }
                let mut d = Diag::new(open, format!("expected `}}` to close {what} opened here"))
                    .label(format!("{what} opened here"));
                if !self.at(&TokKind::Eof) {
                    let next = self.peek().clone();
                    d = d.help(format!(
                        "add `}}` before `{}` on line {}",
                        next.text(self.text),
                        self.line_of(next.span)
                    ));
                } else {
                    d = d.help("add `}` at the end of the block");
                }
                self.diags.push(d);
                return Ok(Block { stmts, span: kw.span.join(Span::new(self.prev_end, self.prev_end)) });
            }
            match self.stmt() {
                Ok(s) => stmts.push(s),
                Err(Fail) => self.recover_stmt(),
            }
        }
    }

    /// The current token ends a statement (the terminator is not consumed).
    fn at_stmt_end(&self) -> bool {
        matches!(self.peek().kind, TokKind::Newline | TokKind::Semi | TokKind::RBrace | TokKind::Eof)
    }

    /// `[NAME =] VERB ARG* [= VALUE]`.
    ///
    /// `=` has three roles, told apart by position and spacing:
    /// - an identifier followed by `=` at the start of a statement is the bind
    ///   (`m = mmap ...`, also `m=mmap ...`);
    /// - among the arguments, an identifier *immediately* followed by `=` (no
    ///   whitespace before the `=`) is a key: `pages=0..2`; whitespace after the
    ///   `=` is tolerated (`pages= 0..2`);
    /// - any other `=` after the verb starts the assigned value: `store m[0] = 0x11`
    ///   (also `store m[0]=0x11`, since `]` is not an identifier). So `write f = 5`
    ///   assigns but `write f=5` is a key `f` — write the spaces.
    fn stmt(&mut self) -> PResult<Stmt> {
        let start = self.peek().span.start as usize;
        let bind = if self.at(&TokKind::Ident) && self.nth(1).kind == TokKind::Eq {
            let t = self.bump();
            self.bump();
            Some(self.ident(&t))
        } else {
            None
        };
        let verb_what = match &bind {
            Some(b) => format!("a verb after `{} =`", b.name),
            None => "a statement".to_string(),
        };
        if !self.at(&TokKind::Ident) {
            let mut d = self.expected(&verb_what);
            if bind.is_none() {
                d = d.help("a statement is `[NAME =] verb arguments...`, as in `store m[0] = 0x11`");
            }
            return Err(self.report(d));
        }
        let first = self.bump();
        let first = self.ident(&first);
        let verb = if self.at(&TokKind::Dot) {
            self.bump();
            let method = self.expect_ident(&format!("a method name after `{}.`", first.name))?;
            Verb::Method { object: first, method }
        } else {
            Verb::Plain(first)
        };

        let mut args = Vec::new();
        while !self.at_stmt_end() && !self.at(&TokKind::Eq) {
            let next = self.nth(1);
            if self.at(&TokKind::Ident) && next.kind == TokKind::Eq && !next.spaced {
                let k = self.bump();
                let key = self.ident(&k);
                self.bump();
                let value = self.value(&format!("a value after `{}=`", key.name))?;
                args.push(Arg::Key { key, value });
            } else {
                args.push(Arg::Value(self.value("an argument or the end of the statement")?));
            }
        }

        let assign = if self.at(&TokKind::Eq) {
            self.bump();
            let value = self.value("a value after `=`")?;
            if !self.at_stmt_end() {
                let d = self
                    .expected("the end of the statement after the assigned value")
                    .help("one statement per line, or separate statements with `;`");
                return Err(self.report(d));
            }
            Some(value)
        } else {
            None
        };
        Ok(Stmt { bind, verb, args, assign, span: Span::new(start, self.prev_end) })
    }

    /// `IDENT`, `IDENT[N]`, `N`, `N..M` or a string; `what` says what was expected.
    fn value(&mut self, what: &str) -> PResult<Value> {
        match self.peek().kind.clone() {
            TokKind::Ident => {
                let t = self.bump();
                let base = self.ident(&t);
                if self.at(&TokKind::LBracket) {
                    let (index, span) = self.index(&base)?;
                    Ok(Value::Index { base, index, span })
                } else {
                    Ok(Value::Word(base))
                }
            }
            TokKind::Number(value) => {
                let t = self.bump();
                let start = Number { value, span: t.span };
                if self.at(&TokKind::DotDot) {
                    self.bump();
                    let end = self.expect_number(&format!("a number after `{}..`", t.text(self.text)))?;
                    Ok(Value::Range { start, end, span: start.span.join(end.span) })
                } else {
                    Ok(Value::Number(start))
                }
            }
            TokKind::Str(s) => {
                let t = self.bump();
                Ok(Value::Str(s, t.span))
            }
            _ => {
                let d = self.expected(what);
                Err(self.report(d))
            }
        }
    }

    /// `[N]` after `base`; returns the number and the span of `base[N]`.
    fn index(&mut self, base: &Ident) -> PResult<(Number, Span)> {
        self.bump();
        let index = self.expect_number(&format!("a page number inside `{}[...]`", base.name))?;
        if !self.at(&TokKind::RBracket) {
            let d = self.expected(&format!("`]` to close `{}[`", base.name));
            return Err(self.report(d));
        }
        let close = self.bump();
        Ok((index, base.span.join(close.span)))
    }

    // ---- conditions --------------------------------------------------------------

    fn cond_decl(&mut self, kind: CondKind) -> PResult<()> {
        let kw = self.bump();
        if self.at_line_end() {
            let d = self
                .expected(&format!("a condition after `{}`", kind.keyword()))
                .help(format!("for example `{} checksum_error`", kind.keyword()));
            return Err(self.report(d));
        }
        let mut terms = 0;
        let expr = self.cond_or(0, &mut terms)?;
        if !self.at_line_end() {
            let d = self.expected("`and`, `or` or the end of the condition");
            return Err(self.report(d));
        }
        // The text between keyword and the condition's last token: trimmed, and a
        // trailing comment is not part of it since comments are not tokens.
        let text = self.text[kw.span.end as usize..self.prev_end].trim().to_string();
        self.conds.push(CondDecl {
            kind,
            expr,
            span: Span::new(kw.span.start as usize, self.prev_end),
            text,
        });
        Ok(())
    }

    fn cond_or(&mut self, depth: usize, terms: &mut usize) -> PResult<CondExpr> {
        let mut lhs = self.cond_and(depth, terms)?;
        while self.at_word("or") {
            self.bump();
            let rhs = self.cond_and(depth, terms)?;
            lhs = CondExpr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn cond_and(&mut self, depth: usize, terms: &mut usize) -> PResult<CondExpr> {
        let mut lhs = self.cond_not(depth, terms)?;
        while self.at_word("and") {
            self.bump();
            let rhs = self.cond_not(depth, terms)?;
            lhs = CondExpr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn cond_not(&mut self, depth: usize, terms: &mut usize) -> PResult<CondExpr> {
        if depth >= MAX_COND_DEPTH {
            let d = Diag::new(
                self.peek().span,
                format!("condition nested too deeply (more than {MAX_COND_DEPTH} levels)"),
            )
            .label("too deep")
            .help("simplify the condition");
            return Err(self.report(d));
        }
        if self.at_word("not") {
            let kw = self.bump();
            let inner = self.cond_not(depth + 1, terms)?;
            return Ok(CondExpr::Not(Box::new(inner), Span::new(kw.span.start as usize, self.prev_end)));
        }
        if self.at(&TokKind::LParen) {
            let open = self.bump();
            let inner = self.cond_or(depth + 1, terms)?;
            if !self.at(&TokKind::RParen) {
                let (line, col) = self.source.line_col(open.span.start);
                let d = self.expected("`)`").help(format!("to close the `(` at line {line}, column {col}"));
                return Err(self.report(d));
            }
            self.bump();
            return Ok(inner);
        }
        self.cond_atom(terms)
    }

    /// `operand == operand`, `operand != operand`, `func(operand)` or an oracle name.
    fn cond_atom(&mut self, terms: &mut usize) -> PResult<CondExpr> {
        *terms += 1;
        if *terms > MAX_COND_TERMS {
            let d =
                Diag::new(self.peek().span, format!("condition too long (more than {MAX_COND_TERMS} terms)"))
                    .label("too many terms")
                    .help("split it into several `forbid`/`exists`/`always` lines");
            return Err(self.report(d));
        }
        let lhs = self.operand("a condition")?;
        let start = lhs.span().start as usize;
        match self.peek().kind {
            TokKind::EqEq | TokKind::NotEq => {
                let op = self.bump();
                let rhs = self.operand(&format!("a value after `{}`", op.text(self.text)))?;
                let span = Span::new(start, self.prev_end);
                let eq = CondExpr::Eq { lhs, rhs, span };
                Ok(if op.kind == TokKind::NotEq { CondExpr::Not(Box::new(eq), span) } else { eq })
            }
            TokKind::LParen => {
                let Operand::Word(func) = lhs else {
                    let d = self.expected("`==`, `!=`, `and`, `or` or the end of the condition");
                    return Err(self.report(d));
                };
                self.bump();
                let arg = self.operand(&format!("an argument inside `{}(...)`", func.name))?;
                if !self.at(&TokKind::RParen) {
                    let d = self.expected(&format!("`)` to close `{}(`", func.name));
                    return Err(self.report(d));
                }
                self.bump();
                Ok(CondExpr::Call { func, arg, span: Span::new(start, self.prev_end) })
            }
            _ => match lhs {
                Operand::Word(name) => Ok(CondExpr::Name(name)),
                other => {
                    let shown = &self.text[other.span().range()];
                    let d = self
                        .expected(&format!("`==` or `!=` after `{shown}`"))
                        .help(format!("compare it to a value, as in `{shown} == 0x22`"));
                    Err(self.report(d))
                }
            },
        }
    }

    /// `IDENT`, `IDENT[N]`, `IDENT.IDENT` or `N`; the words `and`, `or`, `not` are
    /// operators, never operands.
    fn operand(&mut self, what: &str) -> PResult<Operand> {
        let tok = self.peek().clone();
        match tok.kind {
            TokKind::Number(value) => {
                self.bump();
                Ok(Operand::Number(Number { value, span: tok.span }))
            }
            TokKind::Ident if !matches!(tok.text(self.text), "and" | "or" | "not") => {
                self.bump();
                let base = self.ident(&tok);
                if self.at(&TokKind::LBracket) {
                    let (index, span) = self.index(&base)?;
                    Ok(Operand::Index { base, index, span })
                } else if self.at(&TokKind::Dot) {
                    self.bump();
                    let field = self.expect_ident(&format!("a field name after `{}.`", base.name))?;
                    Ok(Operand::Field { object: base, field })
                } else {
                    Ok(Operand::Word(base))
                }
            }
            _ => {
                let d = self.expected(what);
                Err(self.report(d))
            }
        }
    }

    // ---- result ------------------------------------------------------------------

    #[allow(clippy::result_large_err)]
    fn finish(mut self) -> Result<ast::Scenario, Diags> {
        if !self.litmus_seen && !self.stopped {
            self.diags.push(
                Diag::new(Span::new(0, 0), "missing `litmus NAME` line")
                    .label("expected `litmus NAME`")
                    .help("start the scenario with its name, as in `litmus my-scenario`"),
            );
        }
        if !self.diags.is_empty() {
            self.diags.sort_by_key(|d| d.span.start);
            if self.diags.len() > MAX_ERRORS || self.stopped {
                let at = match self.diags.get(MAX_ERRORS) {
                    Some(d) => d.span,
                    None => self.peek().span,
                };
                self.diags.truncate(MAX_ERRORS);
                self.diags.push(
                    Diag::new(at, format!("too many errors; stopping after {MAX_ERRORS}"))
                        .label("parsing stopped here"),
                );
            }
            return Err(Diags::new(self.source, self.diags));
        }
        let Some(name) = self.name else {
            // Unreachable in practice: without a name there is an error above.
            return Err(Diags::one(self.source, Diag::new(Span::new(0, 0), "missing `litmus NAME` line")));
        };
        Ok(ast::Scenario {
            name,
            doc: self.doc,
            setup: self.setup.map(|(stmts, _)| stmts).unwrap_or_default(),
            threads: self.threads,
            finally: self.finally,
            conds: self.conds,
        })
    }
}

/// The candidate closest to `word` by edit distance, if within 2 edits (and not a
/// complete rewrite of a very short word).
fn suggest<'k>(word: &str, candidates: &[&'k str]) -> Option<&'k str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, c), *c))
        .filter(|&(d, _)| d <= 2 && d < word.chars().count())
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("thred", "thread"), 1);
        assert_eq!(edit_distance("", "doc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(suggest("thred", &TOP_KEYWORDS), Some("thread"));
        assert_eq!(suggest("Setup", &TOP_KEYWORDS), Some("setup"));
        assert_eq!(suggest("finaly", &TOP_KEYWORDS), Some("finally"));
        assert_eq!(suggest("disk", &TOP_KEYWORDS), None);
        assert_eq!(suggest("x", &TOP_KEYWORDS), None);
    }
}
