//! Parser tests: the seed scenario's exact tree, the statement and condition
//! grammar, diagnostics with their positions, and that no input makes it panic.

use pinlab_litmus::ast::{Arg, CondExpr, CondKind, Operand, Scenario, Stmt, Value, Verb};
use pinlab_litmus::{parse, Diags, Source};
use proptest::prelude::*;

const SEED: &str = include_str!("../../../litmus/seed/rdma-writeback.litmus");

fn ok(text: &str) -> Scenario {
    match parse(&Source::new("t.litmus", text)) {
        Ok(s) => s,
        Err(d) => panic!("unexpected errors:\n{}", d.to_plain()),
    }
}

fn err(text: &str) -> Diags {
    match parse(&Source::new("t.litmus", text)) {
        Ok(s) => panic!("expected errors in {text:?}, parsed {s:#?}"),
        Err(d) => d,
    }
}

/// The errors of `text` in plain form, one per line.
fn errs(text: &str) -> String {
    err(text).to_plain()
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Word(w) => w.name.clone(),
        Value::Number(n) => format!("{:#x}", n.value),
        Value::Index { base, index, .. } => format!("{}[{}]", base.name, index.value),
        Value::Range { start, end, .. } => format!("{}..{}", start.value, end.value),
        Value::Str(s, _) => format!("{s:?}"),
    }
}

/// A statement in a canonical text form: `bind = verb arg key=value = assign`.
fn show_stmt(s: &Stmt) -> String {
    let mut out = String::new();
    if let Some(b) = &s.bind {
        out += &format!("{} = ", b.name);
    }
    match &s.verb {
        Verb::Plain(v) => out += &v.name,
        Verb::Method { object, method } => out += &format!("{}.{}", object.name, method.name),
    }
    for a in &s.args {
        match a {
            Arg::Value(v) => out += &format!(" {}", show_value(v)),
            Arg::Key { key, value } => out += &format!(" {}={}", key.name, show_value(value)),
        }
    }
    if let Some(v) = &s.assign {
        out += &format!(" = {}", show_value(v));
    }
    out
}

fn show_stmts(stmts: &[Stmt]) -> Vec<String> {
    stmts.iter().map(show_stmt).collect()
}

fn show_operand(o: &Operand) -> String {
    match o {
        Operand::Word(w) => w.name.clone(),
        Operand::Number(n) => format!("{:#x}", n.value),
        Operand::Index { base, index, .. } => format!("{}[{}]", base.name, index.value),
        Operand::Field { object, field } => format!("{}.{}", object.name, field.name),
    }
}

/// A condition fully parenthesized, to make precedence visible.
fn show_cond(c: &CondExpr) -> String {
    match c {
        CondExpr::Name(n) => n.name.clone(),
        CondExpr::Call { func, arg, .. } => format!("{}({})", func.name, show_operand(arg)),
        CondExpr::Eq { lhs, rhs, .. } => format!("{} == {}", show_operand(lhs), show_operand(rhs)),
        CondExpr::Not(e, _) => format!("not ({})", show_cond(e)),
        CondExpr::And(a, b) => format!("({}) and ({})", show_cond(a), show_cond(b)),
        CondExpr::Or(a, b) => format!("({}) or ({})", show_cond(a), show_cond(b)),
    }
}

/// The single condition of `litmus t\nforbid <cond>`.
fn cond(c: &str) -> CondExpr {
    let mut s = ok(&format!("litmus t\nforbid {c}\n"));
    assert_eq!(s.conds.len(), 1);
    s.conds.remove(0).expr
}

fn src(text: &str, span: pinlab_litmus::ast::Span) -> &str {
    &text[span.range()]
}

// ---- the seed scenario -------------------------------------------------------------

#[test]
fn seed_structure() {
    let s = ok(SEED);
    assert_eq!(s.name.name, "seed-rdma-writeback");
    assert_eq!(src(SEED, s.name.span), "seed-rdma-writeback");
    let (doc, doc_span) = s.doc.as_ref().expect("doc");
    assert_eq!(doc, "RDMA NIC writes a file page while writeback checksums it");
    assert_eq!(src(SEED, *doc_span), "\"RDMA NIC writes a file page while writeback checksums it\"");

    assert_eq!(
        show_stmts(&s.setup),
        vec![
            "disk d0 sectors=0x40 cache=volatile",
            "fs fs0 on d0 type=csumfs",
            "file f on fs0 pages=0x2 fill=0xaa",
            "process p",
            "nic n",
        ]
    );

    assert_eq!(s.threads.len(), 3);
    let app = &s.threads[0];
    assert_eq!(app.name.name, "app");
    assert_eq!(app.on.as_ref().map(|p| p.name.as_str()), Some("p"));
    assert_eq!(
        show_stmts(&app.body.stmts),
        vec![
            "m = mmap f pages=0..2 shared write",
            "mr = n.reg_mr m pages=0..1 write",
            "store m[0] = 0x11",
            "fsync f",
            "n.dereg mr",
        ]
    );
    assert!(src(SEED, app.body.span).starts_with("thread app on p {"));
    assert!(src(SEED, app.body.span)
        .ends_with("n.dereg mr                          # unpin_user_pages_dirty_lock\n}"));

    let nic0 = &s.threads[1];
    assert_eq!((nic0.name.name.as_str(), nic0.on.is_none()), ("nic0", true));
    assert_eq!(show_stmts(&nic0.body.stmts), vec!["n.write mr[0] = 0x22"]);
    let flusher = &s.threads[2];
    assert_eq!((flusher.name.name.as_str(), flusher.on.is_none()), ("flusher", true));
    assert_eq!(show_stmts(&flusher.body.stmts), vec!["writeback f"]);

    let finally = s.finally.as_ref().expect("finally");
    assert_eq!(show_stmts(&finally.stmts), vec!["sync", "crash", "recover"]);
    assert_eq!(src(SEED, finally.span), "finally { sync; crash; recover }");

    let conds: Vec<_> = s.conds.iter().map(|c| (c.kind, c.text.as_str())).collect();
    assert_eq!(
        conds,
        vec![
            (CondKind::Forbid, "checksum_error"),
            (CondKind::Forbid, "lost_write"),
            (CondKind::Exists, "f[0] == 0x22"),
        ]
    );
    assert_eq!(src(SEED, s.conds[2].span), "exists f[0] == 0x22");
    assert_eq!(show_cond(&s.conds[2].expr), "f[0] == 0x22");
    assert!(matches!(&s.conds[0].expr, CondExpr::Name(n) if n.name == "checksum_error"));
}

#[test]
fn seed_details() {
    let s = ok(SEED);
    // `m = mmap f pages=0..2 shared write`, field by field.
    let mmap = &s.threads[0].body.stmts[0];
    assert_eq!(mmap.bind.as_ref().map(|b| b.name.as_str()), Some("m"));
    assert!(matches!(&mmap.verb, Verb::Plain(v) if v.name == "mmap"));
    assert_eq!(mmap.args.len(), 4);
    assert!(matches!(&mmap.args[0], Arg::Value(Value::Word(w)) if w.name == "f"));
    match &mmap.args[1] {
        Arg::Key { key, value: Value::Range { start, end, span } } => {
            assert_eq!(key.name, "pages");
            assert_eq!((start.value, end.value), (0, 2));
            assert_eq!(src(SEED, *span), "0..2");
            assert_eq!(src(SEED, mmap.args[1].span()), "pages=0..2");
        }
        other => panic!("{other:?}"),
    }
    assert!(mmap.assign.is_none());
    assert_eq!(src(SEED, mmap.span), "m = mmap f pages=0..2 shared write");

    // `mr = n.reg_mr ...`: a method verb.
    let reg = &s.threads[0].body.stmts[1];
    match &reg.verb {
        Verb::Method { object, method } => {
            assert_eq!((object.name.as_str(), method.name.as_str()), ("n", "reg_mr"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(src(SEED, reg.verb.span()), "n.reg_mr");

    // `store m[0] = 0x11`: an index argument and an assigned number.
    let store = &s.threads[0].body.stmts[2];
    assert!(store.bind.is_none());
    match (&store.args[..], &store.assign) {
        ([Arg::Value(Value::Index { base, index, span })], Some(Value::Number(n))) => {
            assert_eq!((base.name.as_str(), index.value, n.value), ("m", 0, 0x11));
            assert_eq!(src(SEED, *span), "m[0]");
            assert_eq!(src(SEED, n.span), "0x11");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(src(SEED, store.span), "store m[0] = 0x11");
}

// ---- statements ----------------------------------------------------------------------

#[test]
fn statements_on_one_line_and_separators() {
    let s = ok(
        "litmus t;doc \"d\"\nsetup { process p; nic n\n\n  dma d; }\nthread a on p { sync }\nfinally {\n}\n",
    );
    assert_eq!(show_stmts(&s.setup), vec!["process p", "nic n", "dma d"]);
    assert_eq!(show_stmts(&s.threads[0].body.stmts), vec!["sync"]);
    assert_eq!(s.finally.map(|f| f.stmts.len()), Some(0));
    assert!(s.conds.is_empty());
}

#[test]
fn optional_items_may_be_absent_and_in_any_order() {
    let s = ok("# only a name\n\nlitmus t\n");
    assert!(s.doc.is_none() && s.setup.is_empty() && s.threads.is_empty() && s.finally.is_none());
    let s =
        ok("forbid x\nthread b { sync }\nfinally { crash }\nlitmus t\nsetup { nic n }\nexists y\nalways z\n");
    assert_eq!(s.name.name, "t");
    let kinds: Vec<_> = s.conds.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![CondKind::Forbid, CondKind::Exists, CondKind::Always]);
}

#[test]
fn brace_may_open_on_a_later_line() {
    let s = ok("litmus t\nsetup\n\n{\n  nic n\n}\n");
    assert_eq!(show_stmts(&s.setup), vec!["nic n"]);
}

#[test]
fn key_versus_assign_depends_on_spacing() {
    let s = ok(
        "litmus t\nsetup {\n write f=5\n write f = 5\n store m[0]=0x11\n file f pages= 2\n r=load m[1]\n}\n",
    );
    assert_eq!(
        show_stmts(&s.setup),
        vec!["write f=0x5", "write f = 0x5", "store m[0] = 0x11", "file f pages=0x2", "r = load m[1]",]
    );
}

#[test]
fn value_forms() {
    let s = ok("litmus t\nsetup { x a 7 0x7 b[3] 4..9 \"s \\\"q\\\" \\\\\" k=\"v\" k2=c[1] k3=0..0 = z }\n");
    assert_eq!(show_stmts(&s.setup), vec![r#"x a 0x7 0x7 b[3] 4..9 "s \"q\" \\" k="v" k2=c[1] k3=0..0 = z"#]);
    // Ranges are not checked here (the compiler does): 5..2 parses.
    let s = ok("litmus t\nsetup { x 5..2 18446744073709551615 }\n");
    assert_eq!(show_stmts(&s.setup), vec!["x 5..2 0xffffffffffffffff"]);
}

#[test]
fn crlf_line_ends_and_byte_order_mark() {
    let crlf = format!("\u{feff}{}", SEED.replace('\n', "\r\n"));
    let (a, b) = (ok(SEED), ok(&crlf));
    let show = |s: &Scenario| {
        let mut v: Vec<String> = s.setup.iter().map(show_stmt).collect();
        v.extend(s.threads.iter().flat_map(|t| show_stmts(&t.body.stmts)));
        v.extend(s.conds.iter().map(|c| c.text.clone()));
        v
    };
    assert_eq!(show(&a), show(&b));
    assert_eq!(b.doc.map(|d| d.0), a.doc.map(|d| d.0));
    assert_eq!(
        errs("litmus a\r\ndoc \"x\r\n"),
        "t.litmus:2:5: error: unterminated string (help: close the string with `\"` before the end of the line)\n"
    );
    assert_eq!(err("litmus a\r\ndoc \"x\r\n").diags[0].span.len(), 2);
}

#[test]
fn doc_escapes() {
    let s = ok("litmus t\ndoc \"a \\\"b\\\" \\\\ c é\"\n");
    assert_eq!(s.doc.map(|d| d.0).as_deref(), Some("a \"b\" \\ c é"));
}

#[test]
fn spans_are_byte_offsets() {
    let text = "litmus t\nthread é-free { sync }\n";
    let d = err(text);
    assert_eq!(d.to_plain(), "t.litmus:2:8: error: invalid name `é-free` (help: names use only ASCII letters, digits, `_` and `-`)\n");
    let text = "# é\nlitmus t\nsetup { disk d0 }\n";
    let s = ok(text);
    assert_eq!(src(text, s.setup[0].span), "disk d0");
}

// ---- conditions ------------------------------------------------------------------------

#[test]
fn condition_precedence() {
    assert_eq!(show_cond(&cond("a or b and not c")), "(a) or ((b) and (not (c)))");
    assert_eq!(show_cond(&cond("not a and b or c")), "((not (a)) and (b)) or (c)");
    assert_eq!(show_cond(&cond("a and b and c")), "((a) and (b)) and (c)");
    assert_eq!(show_cond(&cond("a or b or c")), "((a) or (b)) or (c)");
    assert_eq!(show_cond(&cond("(a or b) and c")), "((a) or (b)) and (c)");
    assert_eq!(show_cond(&cond("not not (a)")), "not (not (a))");
    assert_eq!(show_cond(&cond("not (a or b)")), "not ((a) or (b))");
}

#[test]
fn condition_atoms() {
    assert_eq!(show_cond(&cond("kernel_bug(page_without_buffers)")), "kernel_bug(page_without_buffers)");
    assert_eq!(show_cond(&cond("torn(f[0])")), "torn(f[0])");
    assert_eq!(show_cond(&cond("app.r == 0x11")), "app.r == 0x11");
    assert_eq!(show_cond(&cond("app.err == EFAULT and f[1]==3")), "(app.err == EFAULT) and (f[1] == 0x3)");
    assert_eq!(show_cond(&cond("f[0] != 0x22")), "not (f[0] == 0x22)");
    assert_eq!(
        show_cond(&cond("deadlock or torn(f[1]) and not x.y == 1")),
        "(deadlock) or ((torn(f[1])) and (not (x.y == 0x1)))"
    );
}

#[test]
fn condition_spans_and_text() {
    let text = "litmus t\nforbid  not (a or b) and f[0] != 1   # why\nexists c;always d\n";
    let s = ok(text);
    let c = &s.conds[0];
    assert_eq!(c.text, "not (a or b) and f[0] != 1");
    assert_eq!(src(text, c.span), "forbid  not (a or b) and f[0] != 1");
    match &c.expr {
        CondExpr::And(l, r) => {
            assert_eq!(src(text, l.span()), "not (a or b)");
            assert_eq!(src(text, r.span()), "f[0] != 1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(src(text, c.expr.span()), "not (a or b) and f[0] != 1");
    assert_eq!((s.conds[1].text.as_str(), s.conds[2].text.as_str()), ("c", "d"));
    let text = "litmus t\nforbid torn(f[2])\n";
    let s = ok(text);
    assert_eq!(src(text, s.conds[0].expr.span()), "torn(f[2])");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("litmus t\nforbid {}a{}\n", "(".repeat(100), ")".repeat(100));
    assert_eq!(errs(&deep), "t.litmus:2:72: error: condition nested too deeply (more than 64 levels) (help: simplify the condition)\n");
    let ok_depth = format!("litmus t\nforbid {}a{}\n", "(".repeat(63), ")".repeat(63));
    ok(&ok_depth);
    let nots = format!("litmus t\nforbid {}a\n", "not ".repeat(100_000));
    assert!(errs(&nots).contains("condition nested too deeply"));
    let long = format!("litmus t\nforbid a{}\n", " or a".repeat(100_000));
    assert!(errs(&long).contains("condition too long (more than 256 terms)"));
    let parens = "(".repeat(1_000_000);
    assert!(errs(&format!("litmus t\nforbid {parens}")).contains("nested too deeply"));
}

// ---- diagnostics ------------------------------------------------------------------------

#[test]
fn error_positions_and_messages() {
    let cases = [
        ("", "t.litmus:1:1: error: missing `litmus NAME` line (help: start the scenario with its name, as in `litmus my-scenario`)"),
        ("litmus\n", "t.litmus:1:7: error: expected a scenario name after `litmus`, found end of line"),
        ("litmus a b\n", "t.litmus:1:10: error: expected end of line, found `b` (help: put each item on its own line)"),
        ("litmus a\nthred x { sync }\n", "t.litmus:2:1: error: unknown top-level keyword `thred` (help: did you mean `thread`?)"),
        ("litmus a\nFinaly { sync }\n", "t.litmus:2:1: error: unknown top-level keyword `Finaly` (help: did you mean `finally`?)"),
        (
            "litmus a\ndisk d0\n",
            "t.litmus:2:1: error: unknown top-level keyword `disk` (help: top-level items start with `litmus`, `doc`, \
             `setup`, `thread`, `finally`, `forbid`, `exists` or `always`; statements belong inside a block)",
        ),
        ("litmus a\nsetup {\n  disk d0\n", "t.litmus:2:7: error: expected `}` to close `setup` block opened here (help: add `}` at the end of the block)"),
        (
            "litmus a\nthread x {\n  sync\nforbid y\n",
            "t.litmus:2:10: error: expected `}` to close `thread x` block opened here (help: add `}` before `forbid` on line 4)",
        ),
        ("litmus a\nsetup {\n  file f pages= # c\n}\n", "t.litmus:3:16: error: expected a value after `pages=`, found end of line"),
        ("litmus a\nsetup { file f pages=}\n", "t.litmus:2:22: error: expected a value after `pages=`, found `}`"),
        ("litmus a\nsetup { x 3.. }\n", "t.litmus:2:15: error: expected a number after `3..`, found `}`"),
        ("litmus a\nsetup { store m[0] = }\n", "t.litmus:2:22: error: expected a value after `=`, found `}`"),
        (
            "litmus a\nsetup { store m[0] = 1 2 }\n",
            "t.litmus:2:24: error: expected the end of the statement after the assigned value, found `2` \
             (help: one statement per line, or separate statements with `;`)",
        ),
        ("litmus a\nsetup { store m[x] = 1 }\n", "t.litmus:2:17: error: expected a page number inside `m[...]`, found `x`"),
        ("litmus a\nsetup { store m[0 = 1 }\n", "t.litmus:2:19: error: expected `]` to close `m[`, found `=`"),
        ("litmus a\nsetup { m = }\n", "t.litmus:2:13: error: expected a verb after `m =`, found `}`"),
        ("litmus a\nsetup { n. }\n", "t.litmus:2:12: error: expected a method name after `n.`, found `}`"),
        (
            "litmus a\nsetup { 5 }\n",
            "t.litmus:2:9: error: expected a statement, found `5` (help: a statement is `[NAME =] verb arguments...`, as in `store m[0] = 0x11`)",
        ),
        ("litmus a\nsetup { x ( }\n", "t.litmus:2:11: error: expected an argument or the end of the statement, found `(`"),
        ("litmus a\nsetup nic n }\n", "t.litmus:2:7: error: expected `{` to open the `setup` block, found `nic`"),
        ("litmus a\nthread { sync }\n", "t.litmus:2:8: error: expected a thread name after `thread`, found `{`"),
        ("litmus a\nthread x on { sync }\n", "t.litmus:2:13: error: expected a process name after `on`, found `{`"),
        ("litmus a\ndoc x\n", "t.litmus:2:5: error: expected a string after `doc`, found `x` (help: write `doc \"what this scenario shows\"`)"),
        ("litmus a\n}\n", "t.litmus:2:1: error: unexpected `}`"),
        ("litmus a\ndoc \"abc\n", "t.litmus:2:5: error: unterminated string (help: close the string with `\"` before the end of the line)"),
        ("litmus a\ndoc \"a\\tb\"\n", "t.litmus:2:7: error: unknown escape `\\t` in string (help: the only escapes are `\\\"` and `\\\\`)"),
        ("litmus a\nsetup { disk d sectors=0x }\n", "t.litmus:2:24: error: hex number `0x` has no digits (help: write hex digits after `0x`, as in `0xAA`)"),
        ("litmus a\nsetup { disk d sectors=12k }\n", "t.litmus:2:24: error: invalid number `12k` (help: numbers are decimal (`64`) or hex (`0x40`); names cannot start with a digit)"),
        ("litmus a\nsetup { x fill=AA1 fill=0AA }\n", "t.litmus:2:25: error: invalid number `0AA` (help: hex numbers start with `0x`, as in `0x0AA`)"),
        (
            "litmus a\nsetup { x 18446744073709551616 }\n",
            "t.litmus:2:11: error: number `18446744073709551616` does not fit in 64 bits (help: the largest number is 0xffffffffffffffff (18446744073709551615))",
        ),
        ("litmus a\nsetup { x @ }\n", "t.litmus:2:11: error: unexpected character `@`"),
        ("litmus a\nforbid\n", "t.litmus:2:7: error: expected a condition after `forbid`, found end of line (help: for example `forbid checksum_error`)"),
        ("litmus a\nforbid (a or b\n", "t.litmus:2:15: error: expected `)`, found end of line (help: to close the `(` at line 2, column 8)"),
        ("litmus a\nexists f[0]\n", "t.litmus:2:12: error: expected `==` or `!=` after `f[0]`, found end of line (help: compare it to a value, as in `f[0] == 0x22`)"),
        ("litmus a\nalways a and\n", "t.litmus:2:13: error: expected a condition, found end of line"),
        ("litmus a\nforbid a b\n", "t.litmus:2:10: error: expected `and`, `or` or the end of the condition, found `b`"),
        ("litmus a\nforbid x == not\n", "t.litmus:2:13: error: expected a value after `==`, found `not`"),
        ("litmus a\nforbid torn(f[0]\n", "t.litmus:2:17: error: expected `)` to close `torn(`, found end of line"),
        ("litmus a\nforbid torn()\n", "t.litmus:2:13: error: expected an argument inside `torn(...)`, found `)`"),
        ("litmus a\nforbid app.\n", "t.litmus:2:12: error: expected a field name after `app.`, found end of line"),
        ("litmus a\nforbid !a\n", "t.litmus:2:8: error: unexpected character `!` (help: write `not C` to negate a condition, or `!=` to compare)"),
        ("litmus a\nforbid a && b\n", "t.litmus:2:10: error: unexpected characters `&&` (help: write `and` to combine conditions)"),
    ];
    for (text, want) in cases {
        assert_eq!(errs(text), format!("{want}\n"), "for input {text:?}");
    }
}

#[test]
fn duplicates() {
    let text = "litmus a\nlitmus b\ndoc \"x\"\ndoc \"y\"\nsetup {}\nsetup { nic n }\nfinally {}\nfinally{}\n";
    assert_eq!(
        errs(text),
        "t.litmus:2:1: error: duplicate `litmus` line (help: the first `litmus` line is at line 1)\n\
         t.litmus:4:1: error: duplicate `doc` line (help: the first `doc` line is at line 3)\n\
         t.litmus:6:1: error: duplicate `setup` block (help: the first `setup` block is at line 5)\n\
         t.litmus:8:1: error: duplicate `finally` block (help: the first `finally` block is at line 7)\n"
    );
}

#[test]
fn several_errors_at_once() {
    let text = "\
litmus a
setup {
  disk d0 sectors=
  fs fs0 on d0 type=csumfs
  file f on fs0 pages=2 fill=0xZZ
}
thred app on p {
  store m[0] = 0x11
}
thread b {
  store m[0 = 1; sync
  n.write mr[0] = 0x22 0x33
}
forbid (a or
exists f[0] == 0x22
";
    assert_eq!(
        errs(text),
        "t.litmus:3:19: error: expected a value after `sectors=`, found end of line\n\
         t.litmus:5:30: error: invalid number `0xZZ` (help: hex digits are 0-9 and a-f)\n\
         t.litmus:7:1: error: unknown top-level keyword `thred` (help: did you mean `thread`?)\n\
         t.litmus:11:13: error: expected `]` to close `m[`, found `=`\n\
         t.litmus:12:24: error: expected the end of the statement after the assigned value, found `0x33` \
         (help: one statement per line, or separate statements with `;`)\n\
         t.litmus:14:13: error: expected a condition, found end of line\n"
    );
}

#[test]
fn missing_litmus_is_reported_with_other_errors() {
    assert_eq!(
        errs("setup { x ( }\n"),
        "t.litmus:1:1: error: missing `litmus NAME` line (help: start the scenario with its name, as in `litmus my-scenario`)\n\
         t.litmus:1:11: error: expected an argument or the end of the statement, found `(`\n"
    );
}

#[test]
fn lexer_errors_do_not_cascade() {
    // One bad token: one message, not also "expected a value".
    assert_eq!(errs("litmus a\nsetup { store m[0] = 0x1g }\n").lines().count(), 1);
    assert_eq!(errs("litmus a\nforbid a ~ b\n").lines().count(), 1);
    assert_eq!(errs("litmus a $\n").lines().count(), 1);
}

#[test]
fn forgotten_brace_recovers_without_cascade() {
    assert_eq!(
        errs("litmus a\nsetup\n  nic n\n}\nthread t { sync }\n"),
        "t.litmus:2:6: error: expected `{` to open the `setup` block, found end of line\n"
    );
    // A missing `}`: the next block still parses, and its errors are reported.
    assert_eq!(
        errs("litmus a\nsetup {\n  nic n\nthread t {\n  x (\n}\n"),
        "t.litmus:2:7: error: expected `}` to close `setup` block opened here (help: add `}` before `thread` on line 4)\n\
         t.litmus:5:5: error: expected an argument or the end of the statement, found `(`\n"
    );
    // An unknown keyword's block is skipped whole, not read as top-level items.
    assert_eq!(errs("litmus a\nthred t {\n  sync\n  crash\n}\nforbid x\n").lines().count(), 1);
}

#[test]
fn error_count_is_capped() {
    let text = format!("litmus a\n{}", "setup { x ( }\n".repeat(50));
    let d = err(&text);
    assert_eq!(d.diags.len(), 21);
    assert_eq!(d.diags[20].message, "too many errors; stopping after 20");
    let text = "@\n".repeat(100);
    let d = err(&text);
    assert_eq!(d.diags.len(), 21);
    assert_eq!(d.diags[20].message, "too many errors; stopping after 20");
}

#[test]
fn diagnostics_render_with_miette() {
    let d = err("litmus a\nthred x { sync }\n");
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, &d)
        .expect("render");
    assert!(out.contains("unknown top-level keyword `thred`"), "{out}");
    assert!(out.contains("did you mean `thread`?"), "{out}");
}

// ---- robustness ----------------------------------------------------------------------------

/// Parse `text`; whatever the outcome, every span must lie on char boundaries
/// inside the text, and the diagnostics must render.
fn check_no_panic(text: &str) {
    let source = Source::new("p.litmus", text);
    let in_text = |s: pinlab_litmus::ast::Span| {
        s.start <= s.end && text.is_char_boundary(s.start as usize) && text.is_char_boundary(s.end as usize)
    };
    match parse(&source) {
        Ok(s) => {
            assert!(in_text(s.name.span));
            for st in s.setup.iter().chain(s.threads.iter().flat_map(|t| &t.body.stmts)) {
                assert!(in_text(st.span));
            }
            for c in &s.conds {
                assert!(in_text(c.span) && in_text(c.expr.span()));
            }
        }
        Err(d) => {
            assert!(!d.diags.is_empty() && d.diags.len() <= 21);
            for x in &d.diags {
                assert!(in_text(x.span), "bad span {:?} in {text:?}", x.span);
            }
            let _ = d.to_plain();
            let mut out = String::new();
            miette::GraphicalReportHandler::new().render_report(&mut out, &d).expect("render");
        }
    }
}

/// Inputs made of the language's own pieces, which reach deeper than random text.
fn tokens() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "litmus", "doc", "setup", "thread", "finally", "forbid", "exists", "always", "on", "and", "or",
        "not", "x", "m", "0", "0x11", "{", "}", "(", ")", "[", "]", "=", "==", "!=", ".", "..", ";", "\n",
        " ", "\"s\"", "\"", "#c", "\\", "é", "-", "!",
    ]);
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_no_panic(&text);
    }

    #[test]
    fn token_soup_never_panics(text in tokens()) {
        check_no_panic(&text);
    }

    #[test]
    fn seed_with_a_char_deleted_never_panics(at in 0..SEED.len()) {
        let mut text = SEED.to_string();
        if text.is_char_boundary(at) {
            text.remove(at);
        }
        check_no_panic(&text);
    }

    #[test]
    fn seed_with_a_char_inserted_never_panics(at in 0..=SEED.len(), c in any::<char>()) {
        let mut text = SEED.to_string();
        text.insert(at, c);
        check_no_panic(&text);
    }

    #[test]
    fn seed_with_chars_replaced_never_panics(edits in prop::collection::vec((0..SEED.len(), any::<char>()), 1..6)) {
        let mut text = SEED.to_string();
        for (at, c) in edits {
            let at = at.min(text.len());
            if text.is_char_boundary(at) {
                if at < text.len() {
                    text.remove(at);
                }
                text.insert(at, c);
            }
        }
        check_no_panic(&text);
    }
}
