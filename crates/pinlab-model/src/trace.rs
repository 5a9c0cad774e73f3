//! What a step tells an observer beyond its label.
//!
//! Exploration runs with [`NoTrace`], whose methods compile to nothing, so the
//! model formats no strings on the hot path; `pinlab trace` replays the chosen
//! schedule with [`Notes`] to collect the story (the vm-memory pattern of a
//! tracking trait whose `()`-like impl costs nothing).

pub trait Tracer {
    /// Record a human-readable detail of the current step. The closure runs
    /// only when someone is listening.
    fn note(&mut self, f: impl FnOnce() -> String);
}

/// Discards everything; used while exploring.
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn note(&mut self, _f: impl FnOnce() -> String) {}
}

/// Collects notes; used when replaying a trace.
#[derive(Default, Debug)]
pub struct Notes(pub Vec<String>);

impl Tracer for Notes {
    fn note(&mut self, f: impl FnOnce() -> String) {
        self.0.push(f());
    }
}
