//! Arbitrary text → `load` → `World::new` → `explore` with tiny limits under
//! every design profile: nothing on the way may panic, and the report must
//! be internally consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pinlab_explore::{explore, Config, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::design::PROFILES;
use pinlab_model::{Cx, World};

fuzz_target!(|text: &str| {
    let Ok(prog) = load(&Source::new("fuzz.litmus", text)) else { return };
    let Ok(init) = World::new(&prog) else { return };
    for profile in PROFILES {
        let design = profile.design();
        let cx = Cx { prog: &prog, design: &design };
        let cfg = Config { max_states: Some(2000), max_depth: Some(64), ..Default::default() };
        let r = explore(&cx, &init, &cfg);
        assert!(r.states >= 1 && r.states <= 2000, "{}: {} states", profile.name, r.states);
        assert_eq!(r.complete, r.stopped_by.is_none(), "{}", profile.name);
        assert_eq!(r.conds.len(), prog.conds.len(), "{}", profile.name);
        if r.verdict() == Verdict::Fail {
            assert!(r.conds.iter().any(|c| !c.holds && c.decided), "{}", profile.name);
        }
        if r.complete {
            assert!(r.conds.iter().all(|c| c.decided), "{}", profile.name);
        }
    }
});
