//! Compiler: syntax tree to a model [`Program`].
//!
//! This is where the language gets its meaning: which verbs exist, what each
//! takes, which names refer to which objects. Every check that can be made
//! before exploring is made here, so the model can trust its input; every
//! failure is a located diagnostic with a hint.

use crate::ast::{self, Arg, CondExpr, Ident, Operand, Span, Stmt, Value, Verb};
use crate::diag::{Diag, Diags, Source};
use pinlab_model::cond::Cond;
use pinlab_model::errno::Errno;
use pinlab_model::ids::*;
use pinlab_model::limits::{DISK_SECTORS_MAX, FILE_PAGES_MAX, FRAMES_MAX, OPS_PER_THREAD_MAX, THREADS_MAX};
use pinlab_model::oracle::{Bug, Oracle};
use pinlab_model::program::*;
use std::collections::HashMap;

/// Verbs of the language (DESIGN.md) that this version does not model yet.
/// They are reported as such, not as unknown.
const YES_NO: &[(&str, bool)] = &[("yes", true), ("no", false)];

const NOT_YET: &[&str] = &["drop_caches"];

const THREAD_VERBS: &[&str] = &[
    "mmap",
    "munmap",
    "madvise",
    "mprotect",
    "mremap",
    "fork",
    "exit",
    "wait",
    "store",
    "load",
    "pin",
    "gup",
    "unpin",
    "put",
    "fsync",
    "writeback",
    "sync",
    "reclaim",
    "migrate",
    "offline",
    "lookup",
    "write",
    "read",
    "truncate",
    "punch",
    "dio_write",
    "dio_read",
    "fail_io",
];
const FINALLY_VERBS: &[&str] = &["sync", "crash", "recover", "scrub"];
const SETUP_VERBS: &[&str] =
    &["memory", "crash_points", "disk", "fs", "file", "process", "nic", "dma", "uring"];
const NIC_METHODS: &[&str] = &["reg_mr", "dereg", "write", "read"];
const DMA_METHODS: &[&str] = &["write", "read"];
const URING_METHODS: &[&str] = &["register", "unregister", "read_fixed", "write_fixed"];

/// What a setup name denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Obj {
    Disk(DiskId),
    Fs(FsId),
    File(FileId),
    Proc(ProcId),
    Dev(DevId),
}

impl Obj {
    fn what(self) -> &'static str {
        match self {
            Obj::Disk(_) => "a disk",
            Obj::Fs(_) => "a file system",
            Obj::File(_) => "a file",
            Obj::Proc(_) => "a process",
            Obj::Dev(_) => "a device",
        }
    }
}

/// What a scenario-global bound name holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Map,
    Pin,
    Mr,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Kind::Map => "a mapping",
            Kind::Pin => "a pin",
            Kind::Mr => "a memory region",
        }
    }
}

struct Compiler<'a> {
    diags: Vec<Diag>,
    source: &'a Source,
    objs: HashMap<String, (Obj, Span)>,
    globals: HashMap<String, (NameId, Kind, Span)>,
    /// Pages of each mapping or pin set whose `pages=` range is written
    /// out, for checking constant indexes (`store m[5]` on a 2-page mapping).
    map_pages: HashMap<NameId, u64>,
    /// The statement span of each compiled op, per thread (finally last).
    op_spans: Vec<Vec<Span>>,
    prog: Program,
}

/// Compile a parsed scenario.
#[allow(clippy::result_large_err)]
pub fn compile(source: &Source, sc: &ast::Scenario) -> Result<Program, Diags> {
    let mut c = Compiler {
        diags: Vec::new(),
        source,
        objs: HashMap::new(),
        globals: HashMap::new(),
        map_pages: HashMap::new(),
        op_spans: Vec::new(),
        prog: Program {
            name: sc.name.name.clone(),
            doc: sc.doc.as_ref().map(|d| d.0.clone()),
            disks: vec![],
            fss: vec![],
            files: vec![],
            memory: MemoryDecl { frames: FRAMES_MAX as u8, movable_from: None },
            crash_points: false,
            procs: vec![],
            devs: vec![],
            names: vec![],
            threads: vec![],
            finally: None,
            conds: vec![],
            warnings: vec![],
        },
    };
    for s in &sc.setup {
        c.setup_stmt(s);
    }
    if sc.threads.len() > THREADS_MAX {
        c.err(Diag::new(sc.threads[THREADS_MAX].name.span, format!("more than {THREADS_MAX} threads")));
    }
    // Bound names are global and may be used by a thread that comes earlier
    // in the file, so collect every binding before compiling any statement.
    for th in &sc.threads {
        for s in &th.body.stmts {
            c.declare_bind(s);
            c.declare_fork(s);
        }
    }
    let mut thread_names: HashMap<&str, Span> = HashMap::new();
    for th in &sc.threads {
        if let Some(prev) = thread_names.insert(&th.name.name, th.name.span) {
            let (l, _) = source.line_col(prev.start);
            c.err(
                Diag::new(th.name.span, format!("thread `{}` is defined twice", th.name.name))
                    .help(format!("first defined on line {l}")),
            );
        }
        let proc = th.on.as_ref().and_then(|p| match c.objs.get(&p.name) {
            Some((Obj::Proc(id), _)) => Some(*id),
            Some((o, _)) => {
                c.err(
                    Diag::new(p.span, format!("`{}` is {}, not a process", p.name, o.what()))
                        .label("`on` needs a process"),
                );
                None
            }
            None => {
                c.err(c.unknown(p, "process"));
                None
            }
        });
        let t = c.thread(&th.name.name, proc, &th.body.stmts, false);
        c.prog.threads.push(t);
    }
    if let Some(f) = &sc.finally {
        let t = c.thread("finally", None, &f.stmts, true);
        c.prog.finally = Some(t);
    }
    if c.diags.is_empty() {
        c.check_wait_cycles();
    }
    for d in &sc.conds {
        if let Some(cond) = c.cond(&d.expr, &sc.threads) {
            let kind = match d.kind {
                ast::CondKind::Forbid => CondKind::Forbid,
                ast::CondKind::Exists => CondKind::Exists,
                ast::CondKind::Always => CondKind::Always,
            };
            c.vacuous(&cond, d.expr.span());
            c.prog.conds.push(CondDecl { kind, cond, text: d.text.clone(), implicit: false });
        }
    }
    // A scenario passes only if the kernel neither hangs, BUGs nor lets a
    // device touch freed memory, unless it says something about those itself.
    for o in [Oracle::Deadlock, Oracle::Starvation, Oracle::KernelBug, Oracle::DmaAfterFree] {
        if !c.prog.conds.iter().any(|d| d.cond.mentions(o)) {
            c.prog.conds.push(CondDecl {
                kind: CondKind::Forbid,
                cond: Cond::Oracle(o),
                text: o.name().into(),
                implicit: true,
            });
        }
    }
    if c.diags.is_empty() {
        if let Err(e) = pinlab_model::World::new(&c.prog) {
            c.err(Diag::new(sc.name.span, format!("the machine in `setup` cannot be built: {}", e.0)));
        }
    }
    if c.diags.is_empty() {
        Ok(c.prog)
    } else {
        Err(Diags::new(source, c.diags))
    }
}

/// Parse and compile.
#[allow(clippy::result_large_err)]
pub fn load(source: &Source) -> Result<Program, Diags> {
    let ast = crate::parse(source)?;
    compile(source, &ast)
}

/// The argument list of one statement, consumed as the verb's rules ask;
/// whatever is left over is reported as unexpected.
struct Args<'s> {
    verb: String,
    pos: Vec<Option<&'s Value>>,
    keys: Vec<Option<(&'s Ident, &'s Value)>>,
}

impl<'s> Args<'s> {
    fn new(s: &'s Stmt) -> Args<'s> {
        let mut a = Args { verb: verb_text(&s.verb), pos: vec![], keys: vec![] };
        for arg in &s.args {
            match arg {
                Arg::Value(v) => a.pos.push(Some(v)),
                Arg::Key { key, value } => a.keys.push(Some((key, value))),
            }
        }
        a
    }

    /// Take the next positional argument.
    fn next(&mut self) -> Option<&'s Value> {
        self.pos.iter_mut().find_map(|p| p.take())
    }

    /// Take a bare flag word like `write` or `shared`.
    fn flag(&mut self, name: &str) -> bool {
        for p in self.pos.iter_mut() {
            if matches!(p, Some(Value::Word(w)) if w.name == name) {
                *p = None;
                return true;
            }
        }
        false
    }

    /// Whether the flag word is there, without taking it.
    fn has(&self, name: &str) -> bool {
        self.pos.iter().any(|p| matches!(p, Some(Value::Word(w)) if w.name == name))
    }

    fn key(&mut self, name: &str) -> Option<(&'s Ident, &'s Value)> {
        self.keys
            .iter_mut()
            .find_map(|k| if k.is_some_and(|(i, _)| i.name == name) { k.take() } else { None })
    }

    /// Report everything not consumed.
    fn finish(self, c: &mut Compiler) {
        for v in self.pos.into_iter().flatten() {
            c.err(
                Diag::new(v.span(), format!("unexpected argument to `{}`", self.verb))
                    .label("not understood here"),
            );
        }
        for (k, v) in self.keys.into_iter().flatten() {
            c.err(
                Diag::new(k.span.join(v.span()), format!("`{}` takes no `{}=`", self.verb, k.name))
                    .label("unknown key"),
            );
        }
    }
}

fn verb_text(v: &Verb) -> String {
    match v {
        Verb::Plain(i) => i.name.clone(),
        Verb::Method { object, method } => format!("{}.{}", object.name, method.name),
    }
}

fn suggest(word: &str, candidates: &[&str]) -> Option<String> {
    // Case-insensitive, and never the word itself.
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .filter(|c| **c != word)
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

impl Compiler<'_> {
    fn err(&mut self, d: Diag) {
        self.diags.push(d);
    }

    /// `name` where a `what` (a setup object's kind: "file", "process",
    /// ...) is needed and no such object has that name: say what it is if it
    /// is something else, and suggest only objects of the needed kind.
    fn unknown(&self, name: &Ident, what: &str) -> Diag {
        let other = match (self.objs.get(&name.name), self.globals.get(&name.name)) {
            (Some((o, _)), _) => Some(o.what()),
            (None, Some((_, k, _))) => Some(k.what()),
            (None, None) => None,
        };
        if let Some(is) = other {
            return Diag::new(name.span, format!("`{}` is {is}, not a {what}", name.name))
                .label(format!("a {what} is needed here"));
        }
        let article = format!("a {what}");
        let same_kind: Vec<&str> =
            self.objs.iter().filter(|(_, (o, _))| o.what() == article).map(|(n, _)| n.as_str()).collect();
        let d = Diag::new(name.span, format!("unknown {what} `{}`", name.name))
            .label(format!("no {what} of this name"));
        match suggest(&name.name, &same_kind) {
            Some(h) => d.help(h),
            None => d,
        }
    }

    fn declare_obj(&mut self, name: &Ident, obj: Obj) {
        if let Some((_, prev)) = self.objs.get(&name.name) {
            let (l, _) = self.source.line_col(prev.start);
            self.err(
                Diag::new(name.span, format!("`{}` is already defined", name.name))
                    .help(format!("first defined on line {l}")),
            );
            return;
        }
        self.objs.insert(name.name.clone(), (obj, name.span));
    }

    fn number(&mut self, v: Option<&Value>, at: Span, what: &str, max: u64) -> Option<u64> {
        match v {
            Some(Value::Number(n)) if n.value <= max => Some(n.value),
            Some(Value::Number(n)) => {
                self.err(Diag::new(n.span, format!("{what} must be at most {max}")));
                None
            }
            Some(v) => {
                self.err(Diag::new(v.span(), format!("expected a number for {what}")));
                None
            }
            None => {
                self.err(Diag::new(at, format!("missing {what}")));
                None
            }
        }
    }

    fn byte(&mut self, v: Option<&Value>, at: Span) -> Option<u8> {
        self.number(v, at, "a byte value (0x00..0xff)", 0xff).map(|b| b as u8)
    }

    /// `pages=A..B` (or `pages=N` meaning `0..N`).
    fn range(&mut self, v: Option<(&Ident, &Value)>, at: Span) -> Option<(u8, u8)> {
        let max = FILE_PAGES_MAX as u64;
        match v {
            Some((_, Value::Range { start, end, span })) => {
                if start.value >= end.value || end.value > max {
                    self.err(
                        Diag::new(*span, "page range must be non-empty and within the limits")
                            .help(format!("write A..B with A < B <= {max}")),
                    );
                    return None;
                }
                Some((start.value as u8, (end.value - start.value) as u8))
            }
            Some((_, Value::Number(n))) if n.value >= 1 && n.value <= max => Some((0, n.value as u8)),
            Some((k, v)) => {
                self.err(Diag::new(k.span.join(v.span()), "expected `pages=A..B`"));
                None
            }
            None => {
                self.err(Diag::new(at, "missing `pages=A..B`"));
                None
            }
        }
    }

    /// Reject what the model does not do on a tmpfs file.
    fn not_tmpfs(&mut self, file: FileId, at: Span, what: &str) -> Option<()> {
        let fs = self.prog.files[file.idx()].fs;
        if self.prog.fss[fs.idx()].ty == FsType::Tmpfs {
            self.err(
                Diag::new(at, format!("{what} on a tmpfs file is not modelled in this version"))
                    .help("use a csumfs or ext4like file"),
            );
            return None;
        }
        Some(())
    }

    /// An optional `pages=A..B` inside mapping `map`'s pages (`None`: all).
    fn sub_range(&mut self, a: &mut Args, map: NameId, at: Span) -> Option<Option<(u8, u8)>> {
        match a.key("pages") {
            None => Some(None),
            v => {
                let (first, pages) = self.range(v, at)?;
                self.check_sub_range(map, first, pages, at)?;
                Some(Some((first, pages)))
            }
        }
    }

    /// A page range must lie inside the mapping it names, where the
    /// mapping's size is known.
    fn check_sub_range(&mut self, map: NameId, first: u8, pages: u8, at: Span) -> Option<()> {
        match self.map_pages.get(&map) {
            Some(&n) if u64::from(first) + u64::from(pages) > n => {
                self.err(Diag::new(at, format!("the mapping has {n} page(s); the range runs past its end")));
                None
            }
            _ => Some(()),
        }
    }

    fn setup_obj<'v>(&mut self, v: Option<&'v Value>, at: Span, what: &str) -> Option<&'v Ident> {
        match v {
            Some(Value::Word(i)) => Some(i),
            Some(v) => {
                self.err(Diag::new(v.span(), format!("expected the {what}'s name")));
                None
            }
            None => {
                self.err(Diag::new(at, format!("missing the {what}'s name")));
                None
            }
        }
    }

    /// `on NAME` in setup statements.
    fn on(&mut self, a: &mut Args, at: Span, want: &str) -> Option<Obj> {
        if !a.flag("on") {
            self.err(Diag::new(at, format!("missing `on {want}`")));
            return None;
        }
        let name = self.setup_obj(a.next(), at, want)?;
        match self.objs.get(&name.name) {
            Some((o, _)) => Some(*o),
            None => {
                let d = self.unknown(name, want);
                self.err(d);
                None
            }
        }
    }

    fn setup_stmt(&mut self, s: &Stmt) {
        let Verb::Plain(verb) = &s.verb else {
            self.err(
                Diag::new(s.verb.span(), "setup only declares objects")
                    .help(format!("setup verbs: {}", SETUP_VERBS.join(", "))),
            );
            return;
        };
        if let Some(b) = &s.bind {
            self.err(
                Diag::new(b.span, "setup statements do not bind names with `=`")
                    .help("write `disk d0 sectors=64`"),
            );
        }
        let mut a = Args::new(s);
        let at = s.span;
        match verb.name.as_str() {
            "crash_points" => match a.next() {
                Some(Value::Word(w)) if w.name == "all" => self.prog.crash_points = true,
                Some(Value::Word(w)) if w.name == "none" => self.prog.crash_points = false,
                _ => self.err(Diag::new(at, "expected `crash_points all` or `crash_points none`")),
            },
            "memory" => {
                let frames = match a.key("frames").map(|(_, v)| v) {
                    Some(v) => {
                        self.number(Some(v), at, "`frames=N`", FRAMES_MAX as u64).unwrap_or(FRAMES_MAX as u64)
                    }
                    None => FRAMES_MAX as u64,
                } as u8;
                let movable_from = match a.key("movable") {
                    None => None,
                    Some((_, Value::Range { start, end, span })) => {
                        if end.value != u64::from(frames) || start.value >= end.value {
                            self.err(
                                Diag::new(
                                    *span,
                                    "ZONE_MOVABLE must be a non-empty range ending at the last frame",
                                )
                                .help(format!("write `movable=A..{frames}`")),
                            );
                        }
                        Some(start.value.min(u64::from(frames)) as u8)
                    }
                    Some((k, v)) => {
                        self.err(Diag::new(k.span.join(v.span()), "expected `movable=A..B`"));
                        None
                    }
                };
                if frames == 0 {
                    self.err(Diag::new(at, "the machine needs at least one frame"));
                }
                self.prog.memory = MemoryDecl { frames, movable_from };
            }
            "disk" => {
                let Some(name) = self.setup_obj(a.next(), at, "disk") else { return };
                let sectors = a.key("sectors").map(|(_, v)| v);
                let sectors = self.number(sectors, at, "`sectors=N`", DISK_SECTORS_MAX as u64).unwrap_or(64);
                let volatile =
                    self.choice(&mut a, "cache", &[("volatile", true), ("writethrough", false)], true);
                let fua = self.choice(&mut a, "fua", YES_NO, false);
                let pi = self.choice(&mut a, "pi", YES_NO, false);
                // bdev_stable_writes: an integrity profile implies it.
                let stable_writes = self.choice(&mut a, "stable_writes", YES_NO, pi);
                if pi && !stable_writes {
                    self.err(
                        Diag::new(at, "a disk with `pi=yes` requires stable writes (bdev_stable_writes)")
                            .help("drop `stable_writes=no`"),
                    );
                }
                // md RAID1 over two such devices (`mdadm --level=1`).
                let mirrors = match a.key("mirrors") {
                    None => 1,
                    Some((k, v)) => match self.number(Some(v), at, "`mirrors=N`", 2) {
                        Some(0) => {
                            self.err(
                                Diag::new(k.span.join(v.span()), "a disk has at least one mirror")
                                    .help("`mirrors=2` makes it an md RAID1 array"),
                            );
                            1
                        }
                        n => n.unwrap_or(1) as u8,
                    },
                };
                let id = DiskId(self.prog.disks.len() as u8);
                self.prog.disks.push(DiskDecl {
                    name: name.name.clone(),
                    sectors: sectors as u16,
                    volatile,
                    fua,
                    pi,
                    stable_writes,
                    mirrors,
                });
                self.declare_obj(name, Obj::Disk(id));
            }
            "fs" => {
                let Some(name) = self.setup_obj(a.next(), at, "file system") else { return };
                let mut known = true;
                let ty = match a.key("type") {
                    Some((_, Value::Word(w))) if w.name == "csumfs" => FsType::Csumfs,
                    Some((_, Value::Word(w))) if w.name == "ext4like" => FsType::Ext4like,
                    Some((_, Value::Word(w))) if w.name == "tmpfs" => FsType::Tmpfs,
                    Some((_, Value::Word(w))) if w.name == "xfslike" => FsType::Xfslike,
                    Some((k, v)) => {
                        let types = ["csumfs", "ext4like", "xfslike", "tmpfs"];
                        let hint = match v {
                            Value::Word(w) => suggest(&w.name, &types),
                            _ => None,
                        };
                        let d = Diag::new(k.span.join(v.span()), "unknown file-system type");
                        self.err(d.help(hint.unwrap_or_else(|| {
                            "`type=csumfs`, `type=ext4like`, `type=xfslike` or `type=tmpfs`".into()
                        })));
                        known = false;
                        FsType::Csumfs
                    }
                    None => {
                        self.err(Diag::new(
                            at,
                            "missing `type=csumfs`, `type=ext4like`, `type=xfslike` or `type=tmpfs`",
                        ));
                        FsType::Csumfs
                    }
                };
                // An unknown type without `on`: one error is enough.
                let disk = if ty == FsType::Tmpfs || (!known && !a.has("on")) {
                    if a.flag("on") {
                        self.err(
                            Diag::new(at, "tmpfs lives in memory, not on a disk")
                                .help("write `fs shm type=tmpfs`"),
                        );
                        return;
                    }
                    // shmem has no disk; the model's file-system code wants
                    // one for its block pointers, so it gets a hidden one
                    // that nothing writes.
                    self.prog.disks.push(DiskDecl {
                        name: format!("<tmpfs {}>", name.name),
                        sectors: 64,
                        volatile: false,
                        fua: false,
                        pi: false,
                        stable_writes: false,
                        mirrors: 1,
                    });
                    DiskId(self.prog.disks.len() as u8 - 1)
                } else {
                    match self.on(&mut a, at, "disk") {
                        Some(Obj::Disk(d)) => d,
                        Some(o) => {
                            self.err(Diag::new(
                                at,
                                format!("a file system lives on a disk, not on {}", o.what()),
                            ));
                            return;
                        }
                        None => return,
                    }
                };
                if self.prog.fss.iter().any(|f| f.disk == disk) {
                    self.err(Diag::new(at, "only one file system per disk"));
                }
                // A checksumming fs must keep pages stable under I/O; ext4 does
                // not. ext4like attaches buffer heads, which hold a reference.
                // SB_I_STABLE_WRITES: csumfs asks for it itself (btrfs
                // checksums data); any fs inherits it from its device.
                let disk_stable = self.prog.disks[disk.idx()].stable_writes;
                let stable_writes =
                    self.choice(&mut a, "stable_writes", YES_NO, ty == FsType::Csumfs || disk_stable);
                if disk_stable && !stable_writes {
                    self.err(
                        Diag::new(
                            at,
                            "this disk requires stable writes; its file system inherits SB_I_STABLE_WRITES",
                        )
                        .help("drop `stable_writes=no`"),
                    );
                }
                let private_default =
                    if ty == FsType::Ext4like { PrivateData::Ref } else { PrivateData::None };
                let private = self.choice(
                    &mut a,
                    "private",
                    &[("none", PrivateData::None), ("ref", PrivateData::Ref), ("noref", PrivateData::NoRef)],
                    private_default,
                );
                let id = FsId(self.prog.fss.len() as u8);
                self.prog.fss.push(FsDecl { private, name: name.name.clone(), disk, ty, stable_writes });
                self.declare_obj(name, Obj::Fs(id));
            }
            "file" => {
                let Some(name) = self.setup_obj(a.next(), at, "file") else { return };
                let fs = match self.on(&mut a, at, "file system") {
                    Some(Obj::Fs(f)) => f,
                    Some(o) => {
                        self.err(Diag::new(
                            at,
                            format!("a file lives on a file system, not on {}", o.what()),
                        ));
                        return;
                    }
                    None => return,
                };
                let pages = a.key("pages").map(|(_, v)| v);
                let pages = self.number(pages, at, "`pages=N`", FILE_PAGES_MAX as u64).unwrap_or(1) as u8;
                if pages == 0 {
                    self.err(Diag::new(at, "a file needs at least one page").help("write `pages=1` or more"));
                }
                let fill = match a.key("fill") {
                    Some((_, v)) => self.byte(Some(v), at).unwrap_or(0),
                    None => 0,
                };
                let id = FileId(self.prog.files.len() as u8);
                self.prog.files.push(FileDecl { name: name.name.clone(), fs, pages: pages.max(1), fill }); // max(1): keep compiling after the error above
                self.declare_obj(name, Obj::File(id));
            }
            "process" | "nic" | "dma" | "uring" => {
                let Some(name) = self.setup_obj(a.next(), at, &verb.name) else { return };
                let obj = if verb.name == "process" {
                    self.prog.procs.push(ProcDecl { name: name.name.clone(), forked: false });
                    Obj::Proc(ProcId(self.prog.procs.len() as u8 - 1))
                } else {
                    let kind = match verb.name.as_str() {
                        "nic" => DevKind::Nic,
                        "uring" => DevKind::Uring,
                        _ => DevKind::Dma,
                    };
                    let odp = kind == DevKind::Nic && a.flag("odp");
                    let burst = match a.key("burst") {
                        Some((_, v)) => self
                            .number(Some(v), at, "`burst=N` (sectors per step, 1..8)", 8)
                            .unwrap_or(1)
                            .max(1) as u8,
                        None => 1,
                    };
                    let lease = if kind == DevKind::Nic {
                        self.choice(
                            &mut a,
                            "lease",
                            &[("cooperative", LeaseHolder::Cooperative), ("stubborn", LeaseHolder::Stubborn)],
                            LeaseHolder::Cooperative,
                        )
                    } else {
                        LeaseHolder::Cooperative
                    };
                    self.prog.devs.push(DevDecl { name: name.name.clone(), kind, odp, burst, lease });
                    Obj::Dev(DevId(self.prog.devs.len() as u8 - 1))
                };
                self.declare_obj(name, obj);
            }
            other => {
                let mut d = Diag::new(verb.span, format!("unknown setup object `{other}`"))
                    .label("expected an object kind");
                d = d.help(
                    suggest(other, SETUP_VERBS)
                        .unwrap_or_else(|| format!("setup declares: {}", SETUP_VERBS.join(", "))),
                );
                self.err(d);
                return;
            }
        }
        a.finish(self);
    }

    /// Record a global name bound by a thread statement.
    /// `fork CHILD` creates process CHILD; threads may be declared `on` it.
    fn declare_fork(&mut self, s: &Stmt) {
        let Verb::Plain(v) = &s.verb else { return };
        if v.name != "fork" {
            return;
        }
        let Some(Arg::Value(Value::Word(child))) = s.args.first() else { return };
        if self.objs.contains_key(&child.name) {
            return; // reported where the fork is compiled
        }
        self.prog.procs.push(ProcDecl { name: child.name.clone(), forked: true });
        self.declare_obj(child, Obj::Proc(ProcId(self.prog.procs.len() as u8 - 1)));
    }

    fn declare_bind(&mut self, s: &Stmt) {
        let Some(b) = &s.bind else { return };
        let kind = match &s.verb {
            Verb::Plain(v) if v.name == "mmap" || v.name == "mremap" => Kind::Map,
            Verb::Plain(v) if v.name == "pin" || v.name == "gup" => Kind::Pin,
            Verb::Method { method, .. } if method.name == "reg_mr" => Kind::Mr,
            Verb::Method { method, .. } if method.name == "register" => Kind::Pin,
            _ => return, // registers are per thread
        };
        if let Some((_, _, prev)) = self.globals.get(&b.name) {
            let (l, _) = self.source.line_col(prev.start);
            self.err(
                Diag::new(b.span, format!("`{}` is bound twice", b.name))
                    .help(format!("first bound on line {l}; names are global to the scenario")),
            );
            return;
        }
        if self.objs.contains_key(&b.name) {
            self.err(Diag::new(b.span, format!("`{}` is already a setup object", b.name)));
            return;
        }
        let id = NameId(self.prog.names.len() as u8);
        self.prog.names.push(b.name.clone());
        self.globals.insert(b.name.clone(), (id, kind, b.span));
        if kind == Kind::Map || kind == Kind::Pin {
            let pages = s.args.iter().find_map(|a| match a {
                Arg::Key { key, value: Value::Range { start, end, .. } } if key.name == "pages" => {
                    Some(end.value.saturating_sub(start.value))
                }
                Arg::Key { key, value: Value::Number(n) } if key.name == "pages" => Some(n.value),
                _ => None,
            });
            if let Some(p) = pages.filter(|&p| p > 0) {
                self.map_pages.insert(id, p);
            }
        }
    }

    fn global(&mut self, name: &Ident, want: &[Kind]) -> Option<NameId> {
        match self.globals.get(&name.name) {
            Some((id, k, _)) if want.contains(k) => Some(*id),
            Some((_, k, _)) => {
                let wanted: Vec<_> = want.iter().map(|k| k.what()).collect();
                self.err(Diag::new(
                    name.span,
                    format!("`{}` is {}, expected {}", name.name, k.what(), wanted.join(" or ")),
                ));
                None
            }
            None => {
                // Suggest only names of the kind the statement needs.
                let same_kind: Vec<&str> = self
                    .globals
                    .iter()
                    .filter(|(_, g)| want.contains(&g.1))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let d = Diag::new(name.span, format!("unknown name `{}`", name.name)).label("never bound");
                let d = if let Some(h) = suggest(&name.name, &same_kind) {
                    d.help(h)
                } else {
                    let example = match want[0] {
                        Kind::Map => "`m = mmap f pages=0..1 shared write`",
                        Kind::Pin => "`pg = pin m pages=0..1 write`",
                        Kind::Mr => "`mr = n.reg_mr m pages=0..1 write`",
                    };
                    d.help(format!("bind it first, e.g. {example}"))
                };
                self.err(d);
                None
            }
        }
    }

    /// `X[p]` naming a global of the wanted kinds.
    fn indexed(&mut self, v: Option<&Value>, at: Span, want: &[Kind]) -> Option<(NameId, u8)> {
        match v {
            Some(Value::Index { base, index, .. }) => {
                let id = self.global(base, want)?;
                if index.value >= FILE_PAGES_MAX as u64 {
                    self.err(Diag::new(index.span, "page index out of range"));
                    return None;
                }
                // A constant index past the end of a mapping or pin set
                // would only fault the thread (or fail the device access)
                // at run time, silently: say so now.
                if let Some(&pages) = self.map_pages.get(&id).filter(|&&p| index.value >= p) {
                    self.err(
                        Diag::new(index.span, format!("page {} is outside `{}`", index.value, base.name))
                            .label("past its end")
                            .help(format!("`{}` has {pages} page(s): index 0..{pages}", base.name)),
                    );
                    return None;
                }
                Some((id, index.value as u8))
            }
            Some(v) => {
                self.err(Diag::new(v.span(), "expected `NAME[page]`"));
                None
            }
            None => {
                self.err(Diag::new(at, "missing `NAME[page]`"));
                None
            }
        }
    }

    fn plain_name(&mut self, v: Option<&Value>, at: Span, want: &[Kind]) -> Option<NameId> {
        match v {
            Some(Value::Word(w)) => self.global(w, want),
            Some(v) => {
                self.err(Diag::new(v.span(), "expected a name"));
                None
            }
            None => {
                self.err(Diag::new(at, "missing a name"));
                None
            }
        }
    }

    fn file(&mut self, v: Option<&Value>, at: Span) -> Option<FileId> {
        match v {
            Some(Value::Word(w)) => match self.objs.get(&w.name) {
                Some((Obj::File(f), _)) => Some(*f),
                Some((o, _)) => {
                    self.err(Diag::new(w.span, format!("`{}` is {}, not a file", w.name, o.what())));
                    None
                }
                None => {
                    let d = self.unknown(w, "file");
                    self.err(d);
                    None
                }
            },
            Some(v) => {
                self.err(Diag::new(v.span(), "expected a file name"));
                None
            }
            None => {
                self.err(Diag::new(at, "missing a file name"));
                None
            }
        }
    }

    fn thread(&mut self, name: &str, proc: Option<ProcId>, stmts: &[Stmt], finally: bool) -> ThreadProg {
        let mut t = ThreadProg { name: name.into(), proc, ops: vec![], src: vec![], regs: vec![] };
        if stmts.len() > OPS_PER_THREAD_MAX {
            self.err(Diag::new(
                stmts[OPS_PER_THREAD_MAX].span,
                format!("more than {OPS_PER_THREAD_MAX} statements in one thread"),
            ));
        }
        let mut spans = Vec::new();
        for s in stmts {
            if let Some(op) = self.stmt(s, &mut t, finally) {
                t.ops.push(op);
                spans.push(s.span);
                let text = self.source.text[s.span.range()].to_string();
                t.src.push(OpSrc { text, loc: self.source.locate(s.span) });
            }
        }
        self.op_spans.push(spans);
        t
    }

    /// Warn about an oracle the condition reads that this machine can never
    /// fire: the condition is then decided by its shape, not by the race
    /// (`forbid checksum_error` on a scenario without csumfs holds however
    /// the threads interleave).
    fn vacuous(&mut self, cond: &Cond, span: Span) {
        let has = |ty: FsType| self.prog.fss.iter().any(|f| f.ty == ty);
        let mut why = Vec::new();
        if cond.reads_oracle(Oracle::ChecksumError) && !has(FsType::Csumfs) {
            why.push("`checksum_error` can never fire here: no file system has type=csumfs (the only one with checksums)");
        }
        if cond.reads_oracle(Oracle::Torn) && !has(FsType::Ext4like) && !has(FsType::Xfslike) {
            why.push("`torn` can never fire here: no file system has type=ext4like or xfslike (the ones writing in place)");
        }
        if cond.reads_oracle(Oracle::IntegrityError) && !self.prog.disks.iter().any(|d| d.pi) {
            why.push("`integrity_error` can never fire here: no disk has `pi=yes`");
        }
        let scrubs = self
            .prog
            .threads
            .iter()
            .chain(&self.prog.finally)
            .any(|t| t.ops.iter().any(|o| matches!(o, Op::Scrub { .. })));
        if cond.reads_oracle(Oracle::MirrorMismatch) && !scrubs {
            why.push(
                "`mirror_mismatch` can never fire here: no thread runs `scrub` on a disk with `mirrors=2`",
            );
        }
        for w in why {
            self.prog.warnings.push(format!("{}: {w}", self.source.locate(span)));
        }
    }

    /// Waits no execution can get past: statement A waits for a name that
    /// statement B binds, B runs only after a statement that waits for a
    /// name bound after A (or for a fork after A), and so on around a
    /// cycle. The model would report `deadlock` with a trace of zero steps,
    /// blaming the kernel for the scenario's own cycle; say it here.
    ///
    /// The graph's nodes are the ops; edges are program order, "binds →
    /// uses" and "fork → first op of each thread on the child".
    fn check_wait_cycles(&mut self) {
        let threads = &self.prog.threads;
        let mut binder: HashMap<NameId, (usize, usize)> = HashMap::new();
        for (t, tp) in threads.iter().enumerate() {
            for (i, op) in tp.ops.iter().enumerate() {
                if let Some(n) = op.binds() {
                    binder.insert(n, (t, i));
                }
            }
        }
        // The edges into each op: (t, i) waits for every node listed.
        let preds = |t: usize, i: usize| -> Vec<((usize, usize), Option<NameId>)> {
            let mut v = Vec::new();
            if i > 0 {
                v.push(((t, i - 1), None));
            } else if let Some(p) = threads[t].proc {
                for (ft, ftp) in threads.iter().enumerate() {
                    for (fi, op) in ftp.ops.iter().enumerate() {
                        if matches!(op, Op::Fork { child } if *child == p) {
                            v.push(((ft, fi), None));
                        }
                    }
                }
            }
            if let Some(n) = threads[t].ops[i].uses() {
                if let Some(&b) = binder.get(&n) {
                    v.push((b, Some(n)));
                }
            }
            v
        };
        // Depth-first over "waits for" edges, looking for a cycle.
        let n_ops: Vec<usize> = threads.iter().map(|t| t.ops.len()).collect();
        let mut colour: Vec<Vec<u8>> = n_ops.iter().map(|&n| vec![0u8; n]).collect();
        for t0 in 0..threads.len() {
            for i0 in 0..n_ops[t0] {
                if colour[t0][i0] != 0 {
                    continue;
                }
                // Stack of (node, its predecessors, next predecessor).
                let mut stack = vec![((t0, i0), preds(t0, i0), 0usize)];
                colour[t0][i0] = 1;
                while let Some(top) = stack.last_mut() {
                    let Some(&(next, _)) = top.1.get(top.2) else {
                        let ((t, i), _, _) = stack.pop().expect("non-empty");
                        colour[t][i] = 2;
                        continue;
                    };
                    top.2 += 1;
                    match colour[next.0][next.1] {
                        0 => {
                            colour[next.0][next.1] = 1;
                            let p = preds(next.0, next.1);
                            stack.push((next, p, 0));
                        }
                        1 => {
                            // A cycle: the stack from `next` to the top.
                            let from = stack.iter().position(|(n, _, _)| *n == next).unwrap_or(0);
                            let waits: Vec<String> = stack[from..]
                                .iter()
                                .filter_map(|((t, i), p, k)| {
                                    let (_, name) = p.get(k - 1)?;
                                    let name = (*name)?;
                                    let (line, _) = self.source.line_col(self.op_spans[*t][*i].start);
                                    Some(format!(
                                        "`{}` (line {line}) waits for `{}`",
                                        threads[*t].name,
                                        self.prog.names[name.idx()]
                                    ))
                                })
                                .collect();
                            let (t, i) = next;
                            let d = Diag::new(
                                self.op_spans[t][i],
                                "these statements wait for each other: no execution can run them",
                            )
                            .label("part of a wait cycle")
                            .help(format!(
                                "{}; bind each name before the statements that wait for it",
                                waits.join(", ")
                            ));
                            self.err(d);
                            return;
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn reg(&mut self, s: &Stmt, t: &mut ThreadProg) -> Option<RegId> {
        let Some(b) = &s.bind else {
            self.err(
                Diag::new(s.span, format!("`{}` needs a register to read into", verb_text(&s.verb)))
                    .help("write `r = ...`"),
            );
            return None;
        };
        if b.name == "err" {
            self.err(Diag::new(b.span, "`err` is reserved for the thread's last error"));
            return None;
        }
        let i = t.regs.iter().position(|r| *r == b.name).unwrap_or_else(|| {
            t.regs.push(b.name.clone());
            t.regs.len() - 1
        });
        Some(RegId(i as u8))
    }

    /// The name a statement binds, already declared by `declare_bind`.
    fn bound(&mut self, s: &Stmt, what: &str) -> Option<NameId> {
        match &s.bind {
            Some(b) => self.globals.get(&b.name).map(|g| g.0),
            None => {
                self.err(
                    Diag::new(s.span, format!("`{}` must bind a name", verb_text(&s.verb)))
                        .help(format!("write `NAME = {what} ...`")),
                );
                None
            }
        }
    }

    fn no_assign(&mut self, s: &Stmt) {
        if let Some(v) = &s.assign {
            self.err(Diag::new(v.span(), format!("`{}` takes no `= VALUE`", verb_text(&s.verb))));
        }
    }

    fn no_bind(&mut self, s: &Stmt) {
        if let Some(b) = &s.bind {
            self.err(Diag::new(b.span, format!("`{}` produces nothing to bind", verb_text(&s.verb))));
        }
    }

    fn stmt(&mut self, s: &Stmt, t: &mut ThreadProg, finally: bool) -> Option<Op> {
        let at = s.span;
        let mut a = Args::new(s);
        let op = match &s.verb {
            Verb::Plain(v) => {
                let allowed = if finally { FINALLY_VERBS } else { THREAD_VERBS };
                if !allowed.contains(&v.name.as_str()) {
                    let d = if NOT_YET.contains(&v.name.as_str())
                        || (!finally && FINALLY_VERBS.contains(&v.name.as_str()))
                        || (finally && THREAD_VERBS.contains(&v.name.as_str()))
                    {
                        if NOT_YET.contains(&v.name.as_str()) {
                            Diag::new(
                                v.span,
                                format!(
                                    "`{}` is part of the language but not modelled in this version",
                                    v.name
                                ),
                            )
                        } else {
                            Diag::new(
                                v.span,
                                format!(
                                    "`{}` is not allowed {}",
                                    v.name,
                                    if finally { "in `finally`" } else { "in a thread" }
                                ),
                            )
                            .help(format!("allowed here: {}", allowed.join(", ")))
                        }
                    } else {
                        let d = Diag::new(v.span, format!("unknown verb `{}`", v.name)).label("not a verb");
                        d.help(
                            suggest(&v.name, allowed)
                                .unwrap_or_else(|| format!("verbs: {}", allowed.join(", "))),
                        )
                    };
                    self.err(d);
                    return None;
                }
                self.plain(v, s, &mut a, t)?
            }
            Verb::Method { object, method } => {
                if finally {
                    self.err(Diag::new(s.verb.span(), "devices cannot act in `finally`"));
                    return None;
                }
                let dev = match self.objs.get(&object.name) {
                    Some((Obj::Dev(d), _)) => *d,
                    Some((o, _)) => {
                        self.err(Diag::new(
                            object.span,
                            format!("`{}` is {}; only devices have methods", object.name, o.what()),
                        ));
                        return None;
                    }
                    None => {
                        let d = self.unknown(object, "device");
                        self.err(d);
                        return None;
                    }
                };
                let kind = self.prog.devs[dev.idx()].kind;
                let methods = match kind {
                    DevKind::Nic => NIC_METHODS,
                    DevKind::Dma => DMA_METHODS,
                    DevKind::Uring => URING_METHODS,
                };
                if !methods.contains(&method.name.as_str()) {
                    let d =
                        Diag::new(method.span, format!("`{}` has no method `{}`", object.name, method.name));
                    self.err(
                        d.help(
                            suggest(&method.name, methods)
                                .unwrap_or_else(|| format!("methods: {}", methods.join(", "))),
                        ),
                    );
                    return None;
                }
                let obj_kinds: &[Kind] =
                    if kind == DevKind::Nic { &[Kind::Mr] } else { &[Kind::Pin, Kind::Mr] };
                match method.name.as_str() {
                    "reg_mr" => {
                        self.no_assign(s);
                        let bind = self.bound(s, "n.reg_mr")?;
                        let map = self.plain_name(a.next(), at, &[Kind::Map])?;
                        let (first, pages) = self.range(a.key("pages"), at)?;
                        let write = a.flag("write");
                        let odp = a.flag("odp");
                        Op::RegMr { bind, dev, map, first, pages, write, odp }
                    }
                    "register" => {
                        // io_sqe_buffers_register → io_pin_pages:
                        // pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM),
                        // then io_coalesce_buffer for large folios.
                        self.no_assign(s);
                        let bind = self.bound(s, "u.register")?;
                        let map = self.plain_name(a.next(), at, &[Kind::Map])?;
                        let (first, pages) = self.range(a.key("pages"), at)?;
                        let foll = Foll::Pin;
                        Op::Gup { bind, map, first, pages, foll, write: true, longterm: true, coalesce: true }
                    }
                    "unregister" => {
                        self.no_assign(s);
                        self.no_bind(s);
                        let pin = self.plain_name(a.next(), at, &[Kind::Pin])?;
                        Op::Unpin { pin, dirty: false }
                    }
                    "read_fixed" | "write_fixed" => {
                        self.no_assign(s);
                        self.no_bind(s);
                        let (file, page) = self.file_index(a.next(), at)?;
                        self.not_tmpfs(file, at, "O_DIRECT-style I/O")?;
                        let is_write = method.name == "write_fixed";
                        let word = if is_write { "from" } else { "into" };
                        if !a.flag(word) {
                            self.err(Diag::new(
                                at,
                                format!("expected `{}.{} F[p] {word} B[q]`", object.name, method.name),
                            ));
                            return None;
                        }
                        let (buf, bpage) = self.indexed(a.next(), at, &[Kind::Pin])?;
                        Op::UringFixed { file, page, buf, bpage, is_write }
                    }
                    "dereg" => {
                        self.no_assign(s);
                        self.no_bind(s);
                        let mr = self.plain_name(a.next(), at, &[Kind::Mr])?;
                        Op::Dereg { dev, mr }
                    }
                    "write" => {
                        self.no_bind(s);
                        let (obj, page) = self.indexed(a.next(), at, obj_kinds)?;
                        let Some(v) = &s.assign else {
                            self.err(Diag::new(at, "a device write needs `= BYTE`"));
                            return None;
                        };
                        let byte = self.byte(Some(v), at)?;
                        let key = self.key_arg(&mut a, at);
                        let pages = match a.key("pages") {
                            Some((_, v)) => self.number(Some(v), at, "`pages=N`", 16)?.max(1) as u8,
                            None => 1,
                        };
                        Op::DevWrite { dev, obj, page, pages, byte, key }
                    }
                    _ => {
                        self.no_assign(s);
                        let reg = self.reg(s, t)?;
                        let (obj, page) = self.indexed(a.next(), at, obj_kinds)?;
                        let key = self.key_arg(&mut a, at);
                        Op::DevRead { reg, dev, obj, page, key }
                    }
                }
            }
        };
        a.finish(self);
        Some(op)
    }

    fn plain(&mut self, v: &Ident, s: &Stmt, a: &mut Args, t: &mut ThreadProg) -> Option<Op> {
        let at = s.span;
        let needs_proc = matches!(
            v.name.as_str(),
            "mmap"
                | "munmap"
                | "madvise"
                | "mprotect"
                | "mremap"
                | "fork"
                | "exit"
                | "store"
                | "load"
                | "pin"
                | "gup"
                | "migrate"
        );
        if needs_proc && t.proc.is_none() {
            self.err(
                Diag::new(v.span, format!("`{}` needs a process", v.name))
                    .help(format!("declare the thread as `thread {} on PROC {{`", t.name)),
            );
        }
        if !matches!(v.name.as_str(), "store" | "write") {
            self.no_assign(s);
        }
        if !matches!(v.name.as_str(), "mmap" | "mremap" | "load" | "pin" | "gup" | "read" | "fsync") {
            self.no_bind(s);
        }
        Some(match v.name.as_str() {
            "mmap" => {
                let bind = self.bound(s, "mmap")?;
                let backing = match a.next() {
                    Some(Value::Word(w)) if w.name == "anon" => Backing::Anon,
                    other => Backing::File(self.file(other, at)?),
                };
                let (first, pages) = self.range(a.key("pages"), at)?;
                let shared = match (a.flag("shared"), a.flag("private")) {
                    (true, false) => true,
                    (false, true) => false,
                    _ => {
                        self.err(Diag::new(at, "say exactly one of `shared` or `private`"));
                        return None;
                    }
                };
                if shared && backing == Backing::Anon {
                    self.err(
                        Diag::new(at, "shared anonymous memory is not modelled in this version")
                            .help("use `private`"),
                    );
                    return None;
                }
                let write = a.flag("write");
                let thp = a.flag("thp");
                let hugetlb = a.flag("hugetlb");
                for (on, what) in [(thp, "thp"), (hugetlb, "hugetlb")] {
                    if on
                        && (backing != Backing::Anon
                            || !pages.is_power_of_two()
                            || !(2..=16).contains(&pages))
                    {
                        self.err(
                            Diag::new(at, format!("`{what}` needs an anon mapping of 2, 4, 8 or 16 pages"))
                                .help("a large folio has a power-of-two size"),
                        );
                        return None;
                    }
                }
                if thp && hugetlb {
                    self.err(Diag::new(at, "say one of `thp` or `hugetlb`, not both"));
                    return None;
                }
                if let Backing::File(file) = backing {
                    let fpages = self.prog.files[file.idx()].pages;
                    if first + pages > fpages {
                        self.err(Diag::new(
                            at,
                            format!("the file has {fpages} page(s); the mapping runs past its end"),
                        ));
                        return None;
                    }
                }
                Op::Mmap { bind, backing, first, pages, shared, write, thp, hugetlb }
            }
            "store" => {
                let (map, page) = self.indexed(a.next(), at, &[Kind::Map])?;
                let Some(val) = &s.assign else {
                    self.err(Diag::new(at, "`store` needs `= BYTE`").help("`store m[0] = 0x11`"));
                    return None;
                };
                let byte = self.byte(Some(val), at)?;
                Op::Store { map, page, byte }
            }
            "load" => {
                let reg = self.reg(s, t)?;
                let (map, page) = self.indexed(a.next(), at, &[Kind::Map])?;
                Op::Load { reg, map, page }
            }
            "pin" | "gup" => {
                let bind = self.bound(s, &v.name)?;
                let map = self.plain_name(a.next(), at, &[Kind::Map])?;
                let (first, pages) = self.range(a.key("pages"), at)?;
                let write = a.flag("write");
                let longterm = a.flag("longterm");
                let foll = if v.name == "pin" { Foll::Pin } else { Foll::Get };
                if foll == Foll::Get && longterm {
                    self.err(
                        Diag::new(at, "FOLL_LONGTERM requires FOLL_PIN (is_valid_gup_args)")
                            .help("use `pin ... longterm`"),
                    );
                }
                Op::Gup { bind, map, first, pages, foll, write, longterm, coalesce: false }
            }
            "unpin" | "put" => {
                let pin = self.plain_name(a.next(), at, &[Kind::Pin])?;
                let dirty = a.flag("dirty");
                Op::Unpin { pin, dirty }
            }
            "munmap" => {
                let map = self.plain_name(a.next(), at, &[Kind::Map])?;
                Op::Munmap { map, range: self.sub_range(a, map, at)? }
            }
            "madvise" => {
                let map = self.plain_name(a.next(), at, &[Kind::Map])?;
                let range = self.sub_range(a, map, at)?;
                let advice = match (a.flag("dontfork"), a.flag("dofork"), a.flag("dontneed")) {
                    (true, false, false) => Advice::DontFork,
                    (false, true, false) => Advice::DoFork,
                    (false, false, true) => Advice::DontNeed,
                    _ => {
                        self.err(
                            Diag::new(at, "say exactly one advice: `dontfork`, `dofork` or `dontneed`")
                                .help("`madvise m pages=1..4 dontneed`; other advice is not modelled"),
                        );
                        return None;
                    }
                };
                Op::Madvise { map, range, advice }
            }
            "mprotect" => {
                let map = self.plain_name(a.next(), at, &[Kind::Map])?;
                let range = self.sub_range(a, map, at)?;
                let write = match (a.flag("ro"), a.flag("rw")) {
                    (true, false) => false,
                    (false, true) => true,
                    _ => {
                        self.err(
                            Diag::new(
                                at,
                                "say exactly one of `ro` (PROT_READ) or `rw` (PROT_READ|PROT_WRITE)",
                            )
                            .help("`mprotect m pages=0..1 ro`"),
                        );
                        return None;
                    }
                };
                Op::Mprotect { map, range, write }
            }
            "mremap" => {
                let bind = self.bound(s, "mremap")?;
                let map = self.plain_name(a.next(), at, &[Kind::Map])?;
                let (first, pages) = self.range(a.key("pages"), at)?;
                self.check_sub_range(map, first, pages, at)?;
                Op::Mremap { bind, map, first, pages }
            }
            "fork" => {
                let child = match a.next() {
                    Some(Value::Word(w)) => match self.objs.get(&w.name) {
                        Some((Obj::Proc(p), _)) if self.prog.procs[p.idx()].forked => *p,
                        _ => {
                            let d = Diag::new(w.span, format!("`{}` already exists", w.name));
                            self.err(d.help("`fork CHILD` names a new process, used by no other statement"));
                            return None;
                        }
                    },
                    _ => {
                        self.err(Diag::new(at, "`fork` needs the child's name: `fork CHILD`"));
                        return None;
                    }
                };
                Op::Fork { child }
            }
            "exit" => Op::Exit,
            "wait" => {
                let child = match a.next() {
                    Some(Value::Word(w)) => match self.objs.get(&w.name) {
                        Some((Obj::Proc(p), _)) if self.prog.procs[p.idx()].forked => *p,
                        _ => {
                            self.err(
                                Diag::new(w.span, format!("`{}` is not a forked process", w.name))
                                    .help("`wait CHILD` names a process created by `fork CHILD`"),
                            );
                            return None;
                        }
                    },
                    _ => {
                        self.err(Diag::new(at, "`wait` needs the child's name: `wait CHILD`"));
                        return None;
                    }
                };
                Op::Wait { child }
            }
            "reclaim" => Op::Reclaim,
            "offline" => Op::Offline,
            "migrate" => {
                let (map, page) = self.indexed(a.next(), at, &[Kind::Map])?;
                Op::Migrate { map, page }
            }
            "lookup" => {
                let (file, page) = match a.next() {
                    Some(Value::Index { base, index, span }) => {
                        self.file_page(&Operand::Index { base: base.clone(), index: *index, span: *span })?
                    }
                    other => {
                        let sp = other.map_or(at, |v| v.span());
                        self.err(Diag::new(sp, "expected `lookup F[page]`"));
                        return None;
                    }
                };
                Op::Lookup { file, page }
            }
            "fsync" => {
                let reg = match &s.bind {
                    Some(_) => Some(self.reg(s, t)?),
                    None => None,
                };
                Op::Fsync { file: self.file(a.next(), at)?, reg }
            }
            "write" => {
                let (file, page) = self.file_index(a.next(), at)?;
                let Some(val) = &s.assign else {
                    self.err(Diag::new(at, "`write` needs `= BYTE`").help("`write f[0] = 0x11`"));
                    return None;
                };
                let byte = self.byte(Some(val), at)?;
                Op::Write { file, page, byte }
            }
            "read" => {
                let reg = self.reg(s, t)?;
                let (file, page) = self.file_index(a.next(), at)?;
                Op::Read { reg, file, page }
            }
            "truncate" => {
                let file = self.file(a.next(), at)?;
                self.not_tmpfs(file, at, "`truncate`")?;
                let pages = a.key("pages").map(|(_, v)| v);
                let n = self.number(pages, at, "`pages=N`", u64::from(self.prog.files[file.idx()].pages))?;
                Op::Truncate { file, pages: n as u8 }
            }
            "punch" => {
                let (file, page) = self.file_index(a.next(), at)?;
                self.not_tmpfs(file, at, "`punch`")?;
                Op::Punch { file, page }
            }
            "dio_write" | "dio_read" => {
                let (file, page) = self.file_index(a.next(), at)?;
                self.not_tmpfs(file, at, "O_DIRECT")?;
                let word = if v.name == "dio_write" { "from" } else { "into" };
                if !a.flag(word) {
                    self.err(Diag::new(at, format!("expected `{} F[p] {word} X[q]`", v.name)));
                    return None;
                }
                let (map, mpage) = self.indexed(a.next(), at, &[Kind::Map])?;
                if v.name == "dio_write" {
                    Op::DioWrite { file, page, map, mpage }
                } else {
                    Op::DioRead { file, page, map, mpage }
                }
            }
            "scrub" => {
                let disk = match a.next() {
                    None => None,
                    Some(Value::Word(w)) => match self.objs.get(&w.name) {
                        Some((Obj::Disk(d), _)) => Some(*d),
                        _ => {
                            let d = self.unknown(w, "disk");
                            self.err(d);
                            return None;
                        }
                    },
                    Some(v) => {
                        self.err(Diag::new(
                            v.span(),
                            "`scrub` takes a disk or nothing: `scrub md0`, `scrub`",
                        ));
                        return None;
                    }
                };
                if let Some(d) = disk {
                    let decl = &self.prog.disks[d.idx()];
                    let csum = self.prog.fss.iter().any(|f| f.disk == d && f.ty == FsType::Csumfs);
                    if decl.mirrors < 2 && !csum {
                        let name = decl.name.clone();
                        self.err(
                            Diag::new(
                                at,
                                format!("disk `{name}` has nothing to scrub: no checksums, one mirror"),
                            )
                            .help(
                                "scrub verifies csumfs checksums and compares md RAID1 mirrors (`mirrors=2`)",
                            ),
                        );
                        return None;
                    }
                }
                Op::Scrub { disk }
            }
            "fail_io" => {
                let disk = match a.next() {
                    Some(Value::Word(w)) => match self.objs.get(&w.name) {
                        Some((Obj::Disk(d), _)) => *d,
                        _ => {
                            let d = self.unknown(w, "disk");
                            self.err(d);
                            return None;
                        }
                    },
                    _ => {
                        self.err(Diag::new(at, "`fail_io` needs a disk: `fail_io d0`"));
                        return None;
                    }
                };
                Op::FailIo { disk }
            }
            "writeback" => Op::Writeback { file: self.file(a.next(), at)? },
            "sync" => Op::Sync,
            "crash" => Op::Crash,
            "recover" => Op::Recover,
            _ => unreachable!("verb lists and match arms disagree"),
        })
    }

    fn cond(&mut self, e: &CondExpr, threads: &[ast::ThreadBlock]) -> Option<Cond> {
        Some(match e {
            CondExpr::Name(i) => match Oracle::from_name(&i.name) {
                Some(o) => Cond::Oracle(o),
                None => {
                    let names: Vec<&str> = Oracle::ALL.iter().map(|o| o.name()).collect();
                    let d = Diag::new(i.span, format!("unknown oracle `{}`", i.name));
                    self.err(d.help(
                        suggest(&i.name, &names).unwrap_or_else(|| format!("oracles: {}", names.join(", "))),
                    ));
                    return None;
                }
            },
            CondExpr::Call { func, arg, span } => match func.name.as_str() {
                "kernel_bug" => match arg {
                    Operand::Word(w) => match Bug::from_name(&w.name) {
                        Some(b) => Cond::Bug(b),
                        None => {
                            let names: Vec<&str> = Bug::ALL.iter().map(|b| b.name()).collect();
                            self.err(
                                Diag::new(w.span, format!("unknown kernel bug `{}`", w.name))
                                    .help(format!("known: {}", names.join(", "))),
                            );
                            return None;
                        }
                    },
                    _ => {
                        self.err(Diag::new(*span, "expected `kernel_bug(NAME)`"));
                        return None;
                    }
                },
                "torn" => {
                    let (file, page) = self.file_page(arg)?;
                    Cond::Torn { file, page }
                }
                _ => {
                    self.err(
                        Diag::new(func.span, format!("unknown condition function `{}`", func.name))
                            .help("`kernel_bug(NAME)` or `torn(F[p])`"),
                    );
                    return None;
                }
            },
            CondExpr::Eq { lhs, rhs, span } => match lhs {
                Operand::Index { .. } => {
                    let (file, page) = self.file_page(lhs)?;
                    let Operand::Number(n) = rhs else {
                        self.err(Diag::new(rhs.span(), "expected a byte value"));
                        return None;
                    };
                    if n.value > 0xff {
                        self.err(Diag::new(n.span, "a page compares with a byte value (0x00..0xff)"));
                        return None;
                    }
                    Cond::FileEq { file, page, byte: n.value as u8 }
                }
                Operand::Field { object, field } => {
                    let Some(ti) = threads.iter().position(|t| t.name.name == object.name) else {
                        let d = Diag::new(object.span, format!("unknown thread `{}`", object.name));
                        self.err(d);
                        return None;
                    };
                    let thread = ThreadId(ti as u8);
                    if field.name == "err" {
                        let err = match rhs {
                            Operand::Number(n) if n.value == 0 => None,
                            Operand::Word(w) => match Errno::from_name(&w.name) {
                                Some(e) => Some(e),
                                None => {
                                    let names: Vec<&str> = Errno::ALL.iter().map(|e| e.name()).collect();
                                    self.err(
                                        Diag::new(w.span, format!("unknown errno `{}`", w.name))
                                            .help(format!("known: {}", names.join(", "))),
                                    );
                                    return None;
                                }
                            },
                            _ => {
                                self.err(Diag::new(rhs.span(), "compare `err` with an errno name or 0"));
                                return None;
                            }
                        };
                        return Some(Cond::ErrEq { thread, err });
                    }
                    let Some(r) =
                        self.prog.threads.get(ti).and_then(|t| t.regs.iter().position(|r| *r == field.name))
                    else {
                        self.err(Diag::new(
                            field.span,
                            format!("thread `{}` has no register `{}`", object.name, field.name),
                        ));
                        return None;
                    };
                    let value = match rhs {
                        Operand::Number(n) => n.value,
                        // `app.r == EIO`: a register holding a syscall's errno.
                        Operand::Word(w) if Errno::from_name(&w.name).is_some() => {
                            Errno::from_name(&w.name).expect("checked").code()
                        }
                        _ => {
                            self.err(Diag::new(
                                rhs.span(),
                                "compare a register with a number or an errno name",
                            ));
                            return None;
                        }
                    };
                    Cond::RegEq { thread, reg: RegId(r as u8), value }
                }
                _ => {
                    self.err(Diag::new(
                        *span,
                        "expected `F[p] == B`, `thread.r == V` or `thread.err == ERRNO`",
                    ));
                    return None;
                }
            },
            CondExpr::Not(c, _) => Cond::Not(Box::new(self.cond(c, threads)?)),
            CondExpr::And(x, y) => {
                let (x, y) = (self.cond(x, threads), self.cond(y, threads));
                Cond::And(Box::new(x?), Box::new(y?))
            }
            CondExpr::Or(x, y) => {
                let (x, y) = (self.cond(x, threads), self.cond(y, threads));
                Cond::Or(Box::new(x?), Box::new(y?))
            }
        })
    }

    /// `key=WORD` with WORD one of `choices`; `default` when the key is absent
    /// (or wrong, which is reported).
    fn choice<V: Copy>(&mut self, a: &mut Args, key: &str, choices: &[(&str, V)], default: V) -> V {
        let Some((k, v)) = a.key(key) else { return default };
        if let Value::Word(w) = v {
            if let Some((_, val)) = choices.iter().find(|(name, _)| *name == w.name) {
                return *val;
            }
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let expected = match names.as_slice() {
            [a, b] => format!("expected `{key}={a}` or `{key}={b}`"),
            [first, middle @ .., last] => {
                let mid: String = middle.iter().map(|m| format!(", `{m}`")).collect();
                format!("expected `{key}={first}`{mid} or `{last}`")
            }
            _ => format!("expected `{key}=...`"),
        };
        self.err(Diag::new(k.span.join(v.span()), expected));
        default
    }

    /// `key=K`: a forged rkey on a remote access.
    fn key_arg(&mut self, a: &mut Args, at: Span) -> Option<u16> {
        let (_, v) = a.key("key")?;
        self.number(Some(v), at, "`key=K`", u64::from(u16::MAX)).map(|k| k as u16)
    }

    /// `F[p]` as a statement argument.
    fn file_index(&mut self, v: Option<&Value>, at: Span) -> Option<(FileId, u8)> {
        match v {
            Some(Value::Index { base, index, span }) => {
                self.file_page(&Operand::Index { base: base.clone(), index: *index, span: *span })
            }
            other => {
                let sp = other.map_or(at, |v| v.span());
                self.err(Diag::new(sp, "expected `FILE[page]`"));
                None
            }
        }
    }

    fn file_page(&mut self, o: &Operand) -> Option<(FileId, u8)> {
        let Operand::Index { base, index, span } = o else {
            self.err(Diag::new(o.span(), "expected `FILE[page]`"));
            return None;
        };
        let file = self.file(Some(&Value::Word(base.clone())), *span)?;
        let pages = self.prog.files[file.idx()].pages;
        if index.value >= u64::from(pages) {
            self.err(Diag::new(index.span, format!("`{}` has {pages} page(s)", base.name)));
            return None;
        }
        Some((file, index.value as u8))
    }
}
