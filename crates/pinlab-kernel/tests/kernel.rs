//! Runs every probe against the running kernel and asserts that each probe
//! that ran agrees with the linux-6.x model. Probes the kernel does not
//! permit (no io_uring, no O_DIRECT, no THP, ...) are printed as skipped;
//! on a kernel without io_uring most of them are, and the test still passes.

use pinlab_kernel::{run_probes, text, Status};

#[test]
fn probes_agree_with_the_model() {
    let r = run_probes(&std::env::temp_dir(), &[]);
    // Visible with `cargo test -- --nocapture`, and printed on failure.
    eprintln!("{}", text(&r));
    for row in &r.rows {
        match row.status {
            Status::Skipped => eprintln!("SKIPPED {}: {}", row.probe, row.reason.as_deref().unwrap_or("")),
            Status::NotModelled => eprintln!(
                "NOT MODELLED {} (kernel: {}): {}",
                row.probe,
                row.kernel.as_deref().unwrap_or("-"),
                row.reason.as_deref().unwrap_or("")
            ),
            Status::ModelGap => eprintln!(
                "KNOWN MODEL GAP {} (kernel: {}, model: {}): {}",
                row.probe,
                row.kernel.as_deref().unwrap_or("-"),
                row.model.as_deref().unwrap_or("-"),
                row.reason.as_deref().unwrap_or("")
            ),
            Status::Agree | Status::Disagree => {}
        }
    }
    let bad: Vec<_> =
        r.rows.iter().filter(|row| row.status == Status::Disagree).map(|row| &row.probe).collect();
    assert!(bad.is_empty(), "probes where the kernel and the model disagree: {bad:?}\n{}", text(&r));
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn every_probe_scenario_compiles_and_answers() {
    // The model side alone, so a broken scenario fails even on a machine
    // whose kernel skips every probe.
    for p in pinlab_kernel::probes::all() {
        match pinlab_kernel::probes::model_answer(&p) {
            Ok(a) => assert!(!a.is_empty(), "{}: empty model answer", p.name),
            Err(e) => assert!(e.starts_with("not modelled"), "{}: model error: {e}", p.name),
        }
    }
}

#[test]
fn file_probes_on_tmpfs_are_not_modelled() {
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() || pinlab_kernel::host(shm).fs != "tmpfs" {
        eprintln!("SKIPPED: /dev/shm is not a tmpfs here");
        return;
    }
    let r = run_probes(shm, &["reg/file-shared".to_string()]);
    eprintln!("{}", text(&r));
    for row in &r.rows {
        assert!(
            matches!(row.status, Status::NotModelled | Status::Skipped),
            "{}: a shmem file is not what the model's disk file stands for: {:?}",
            row.probe,
            row.status
        );
    }
}
