//! The selftest mapping against the TAP output of `cow` and `gup_longterm`
//! from Linux 6.12's source, run on this project's Linux 6.18 machine with
//! 16 free 2 MiB huge pages, no swap and no `CONFIG_GUP_TEST`
//! (`tests/data/*.tap`, unedited).

use pinlab_kernel::selftests::*;
use pinlab_model::design::profile;

fn fixture() -> Vec<Case> {
    let mut v = parse_tap("cow", include_str!("data/cow-6.18.tap"));
    v.extend(parse_tap("gup_longterm", include_str!("data/gup_longterm-6.18.tap")));
    v
}

#[test]
fn tap_is_parsed_case_by_case() {
    let cases = fixture();
    // cow printed 778 results, gup_longterm 50.
    assert_eq!(cases.len(), 828);
    let ran = cases.iter().filter(|c| !matches!(c.kernel, KernelResult::Skip(_))).count();
    assert_eq!(ran, 297);
    assert_eq!(cases.iter().filter(|c| c.kernel == KernelResult::Xfail).count(), 4);
    let first = &cases[0];
    assert_eq!(first.name, "Basic COW after fork() ... with base page");
    assert_eq!(first.kernel, KernelResult::Pass);
    let skipped = &cases[1];
    assert_eq!(skipped.kernel, KernelResult::Skip("MADV_PAGEOUT did not work, is swap enabled?".into()));
    // A [RUN] header with no result of its own is not a case.
    assert!(cases.iter().all(|c| c.name != "Non-anonymous memory tests in private mappings"));
}

#[test]
fn tap_results_and_directives() {
    let t = "# [RUN] a ... with base page\nnot ok 1 Leak\n# [RUN] b ... with base page\nok 2 # XFAIL Leak\n";
    let c = parse_tap("cow", t);
    assert_eq!(
        c.iter().map(|c| c.kernel.clone()).collect::<Vec<_>>(),
        [KernelResult::Fail, KernelResult::Xfail]
    );
}

#[test]
fn every_expressible_case_agrees_with_the_kernel() {
    let r = compare(fixture());
    assert_eq!(r.ran, 297);
    assert_eq!(r.expressible, 281, "{}", text(&r));
    assert_eq!(r.disagree, 0, "{}", text(&r));
    assert_eq!(r.agree, 281);
    // The kernel's own expected failures (vmsplice on hugetlb) are the
    // model's failures too.
    assert_eq!(r.rows.iter().filter(|row| row.verdict == Verdict::AgreeXfail).count(), 4);
    assert!(r.expressible * 10 >= r.ran * 8, "at least 80% expressible");
}

#[test]
fn mapping_names_the_reason_for_what_it_cannot_express() {
    for (name, why) in [
        ("Basic COW after fork() ... with THP (2048 kB)", "PMD-mapped"),
        ("Basic COW after fork() ... with swapped out base page", "swap"),
        ("Basic COW ... with memfd hugetlb (2048 kB)", "hugetlbfs"),
        ("Basic COW after fork() when collapsing before fork()", "MADV_COLLAPSE"),
    ] {
        match map_case("cow", name) {
            Mapping::NotExpressible(w) => assert!(w.contains(why), "{name}: {w}"),
            m => panic!("{name} mapped to {m:?}"),
        }
    }
    assert_eq!(
        map_case("cow", "vmsplice() + unmap in child ... with partially shared THP (64 kB)"),
        Mapping::Anon {
            test: Test::VmspliceInChild { mprotect: false },
            backing: Backing::PartiallySharedThp
        }
    );
}

/// The generated scenarios can fail: under the 2018 kernel (COW reuse by
/// mapcount, CVE-2020-29374) the child's vmsplice'd page shows the
/// parent's later write, and under every design the scenarios compile.
#[test]
fn generated_scenarios_fail_where_old_kernels_failed() {
    let old = profile("linux-4.19").unwrap().design();
    let now = profile("linux-6.x").unwrap().design();
    let mut failing_old = Vec::new();
    for (m, text) in all_scenarios() {
        // hugetlb_wp reuses by mapcount: vmsplice leaks (the kernel's XFAIL).
        let xfail = matches!(
            m,
            Mapping::Anon {
                backing: Backing::Hugetlb,
                test: Test::VmspliceInChild { .. } | Test::VmspliceInParent { .. }
            }
        );
        assert_eq!(model_passes_under(&text, &now), Ok(!xfail), "{m:?}\n{text}");
        if model_passes_under(&text, &old) == Ok(false) {
            failing_old.push(m);
        }
    }
    let cve = Mapping::Anon { test: Test::VmspliceInChild { mprotect: false }, backing: Backing::BasePage };
    assert!(failing_old.contains(&cve), "{failing_old:?}");
    // Basic COW never leaked, not even in 4.19.
    let basic = Mapping::Anon { test: Test::CowInParent { mprotect: false }, backing: Backing::BasePage };
    assert!(!failing_old.contains(&basic), "{failing_old:?}");
}
