//! The RDMA security boundary, exhaustively for small memory regions: a
//! remote write with a wrong rkey, past the MR's end, or into an MR
//! registered without remote-write access completes with a remote access
//! error and changes no byte of memory; a valid one lands. Every design,
//! pinned and on-demand MRs alike.

use pinlab_explore::{explore, Config, Verdict};
use pinlab_litmus::{load, Source};
use pinlab_model::design::PROFILES;
use pinlab_model::dev::rdma::rkey_of;
use pinlab_model::{Cx, World};

fn scenario(mr_pages: u8, write: bool, odp: bool, page: u8, key: Option<u16>) -> (String, bool) {
    let allowed = page < mr_pages && write && key.is_none_or(|k| k == rkey_of(1));
    let access = if write { " write" } else { "" };
    let odp_flag = if odp { " odp" } else { "" };
    let key_arg = key.map_or(String::new(), |k| format!(" key={k:#x}"));
    let conds = if allowed {
        format!("forbid peer.err == EACCES\nexists app.r{page} == 0x22\n")
    } else {
        "always peer.err == EACCES\nalways app.r0 == 0x11 and app.r1 == 0x11 and app.r2 == 0x11\n".to_string()
    };
    let text = format!(
        "litmus mr-{mr_pages}-{write}-{odp}-{page}\nsetup {{\n  process p\n  nic n\n}}\n\
         thread app on p {{\n  m = mmap anon pages=0..3 private write\n  store m[0] = 0x11\n  store m[1] = 0x11\n  \
         store m[2] = 0x11\n  mr = n.reg_mr m pages=0..{mr_pages}{access}{odp_flag}\n  r0 = load m[0]\n  r1 = load m[1]\n  \
         r2 = load m[2]\n}}\nthread peer {{\n  n.write mr[{page}]{key_arg} = 0x22\n}}\n{conds}"
    );
    (text, allowed)
}

#[test]
fn remote_access_checks_hold_for_every_small_mr_under_every_design() {
    let mut checked = 0;
    for mr_pages in 1..=2u8 {
        for write in [false, true] {
            for odp in [false, true] {
                for page in 0..3u8 {
                    for key in [None, Some(rkey_of(1)), Some(rkey_of(1) + 1)] {
                        let (text, allowed) = scenario(mr_pages, write, odp, page, key);
                        let prog = load(&Source::new("generated.litmus", text.as_str()))
                            .unwrap_or_else(|d| panic!("{}\n{text}", d.to_plain()));
                        for p in PROFILES {
                            let d = p.design();
                            let r = explore(
                                &Cx { prog: &prog, design: &d },
                                &World::new(&prog).unwrap(),
                                &Config::default(),
                            );
                            assert_eq!(
                                r.verdict(),
                                Verdict::Pass,
                                "design {}, allowed={allowed}:\n{text}",
                                p.name
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 2 * 2 * 2 * 3 * 3 * PROFILES.len());
}
