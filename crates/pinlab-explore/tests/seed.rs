//! The seed race end to end: parse, compile, explore under both designs.

use pinlab_explore::{explore, replay, Config};
use pinlab_litmus::{load, Source};
use pinlab_model::design::profile;
use pinlab_model::{Cx, Program, World};

fn seed() -> Program {
    let text = include_str!("../../../litmus/seed/rdma-writeback.litmus");
    load(&Source::new("litmus/seed/rdma-writeback.litmus", text)).expect("seed compiles")
}

#[test]
fn seed_verdicts() {
    let prog = seed();
    for name in ["linux-4.19", "bounce", "linux-6.x"] {
        let d = profile(name).unwrap().design();
        let cx = Cx { prog: &prog, design: &d };
        let w = World::new(&prog).unwrap();
        let r = explore(&cx, &w, &Config::default());
        eprintln!("{name}: states {} transitions {} finals {} pass {} fired {:?}", r.states, r.transitions, r.finals, r.pass(), r.fired.iter().map(|f| f.0).collect::<Vec<_>>());
        for (c, res) in prog.conds.iter().zip(&r.conds) {
            eprintln!("  {:?} {} holds={}", c.kind, c.text, res.holds);
            if let Some(s) = &res.witness {
                let (story, _) = replay(&cx, &w, s).unwrap();
                for st in &story.steps {
                    eprintln!("    {:>3} {:8} {:40} {} {:?} {:?}", st.step, st.thread, st.stmt, st.kernel, st.notes, st.fired);
                }
                eprintln!("    end: {}", story.end);
            }
        }
    }
}
