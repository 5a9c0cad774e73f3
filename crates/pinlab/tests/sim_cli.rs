//! `pinlab sim` and `pinlab trace --perfetto` as scripts see them: exit codes,
//! JSON fields, determinism, and replay of a printed failure byte for byte.

use std::process::{Command, Output};

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../litmus/seed/rdma-writeback.litmus");

fn pinlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlab")).args(args).output().expect("pinlab runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).expect("JSON on stdout")
}

/// Drop the fields that measure time.
fn untimed(mut v: serde_json::Value) -> serde_json::Value {
    for r in v.as_array_mut().unwrap() {
        let m = r.as_object_mut().unwrap();
        m.remove("elapsed_ms");
        m.remove("steps_per_s");
    }
    v
}

#[test]
fn sim_json_is_deterministic_and_its_failures_replay_exactly() {
    let args = ["sim", SEED, "--design", "linux-4.19", "--seed", "5", "--runs", "300", "--json"];
    let o = pinlab(&args);
    assert_eq!(o.status.code(), Some(1), "a failure exits 1: {}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let again = json(&pinlab(&args));
    assert_eq!(untimed(v.clone()), untimed(again), "same seed, same report");
    let r = &v[0];
    assert_eq!(r["design"], "linux-4.19");
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["runs"], 300);
    assert!(r["failing_runs"].as_u64().unwrap() > 0);
    let d = &r["distinct_failures"][0];
    assert!(d["minimised_len"].as_u64() <= d["original_len"].as_u64());
    assert!(d["replay_seed"].as_str().unwrap().starts_with("pinlab sim "));

    // The printed seed and the printed (minimised, completed) schedule replay:
    // the seed's replay prints exactly what its schedule's replay prints.
    let seed = d["run_seed"].as_str().unwrap();
    let original = d["original"].as_str().unwrap();
    let by_seed = pinlab(&["sim", SEED, "--design", "linux-4.19", "--replay", seed]);
    let by_sched = pinlab(&["sim", SEED, "--design", "linux-4.19", "--replay", original]);
    assert_eq!(by_seed.status.code(), Some(1));
    assert_eq!(by_sched.status.code(), Some(1));
    assert_eq!(stdout(&by_seed), stdout(&by_sched));
    assert!(stdout(&by_seed).contains("VIOLATED"));
    let min = d["completed"].as_str().unwrap();
    let o = pinlab(&["sim", SEED, "--design", "linux-4.19", "--replay", min, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let rep = json(&o);
    assert_eq!(rep["schedule"], min);
    let violated: Vec<&str> = rep["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["violated"] == true)
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    let expect: Vec<String> =
        d["conditions"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    for c in &expect {
        assert!(violated.iter().any(|v| c.ends_with(v)), "{c} not violated by the minimised replay");
    }
    // The schedule replays the same story through `trace --schedule`.
    let t = pinlab(&["trace", SEED, "--design", "linux-4.19", "--schedule", min, "--json"]);
    assert_eq!(t.status.code(), Some(0));
    assert_eq!(json(&t), rep["trace"]);
}

#[test]
fn sim_text_under_bounce_finds_nothing_and_bad_input_exits_2() {
    let o = pinlab(&["sim", SEED, "--design", "bounce", "--runs", "200"]);
    // No failure in a sample decides nothing: undecided, exit 3.
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("no failure found"), "{}", stdout(&o));
    assert!(stdout(&o).contains("forbid checksum_error              not violated in"), "{}", stdout(&o));
    for bad in [
        vec!["sim", SEED, "--design", "bounce", "--faults", "gremlins"],
        vec!["sim", SEED, "--replay", "0.0.1"],
        vec!["sim", SEED, "--design", "bounce", "--replay", "0.x"],
        vec!["sim", SEED, "--design", "bounce", "--replay", "2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2"],
    ] {
        assert_eq!(pinlab(&bad).status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn trace_writes_a_perfetto_file() {
    let dir = std::env::temp_dir().join(format!("pinlab-perfetto-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("trace.json");
    let o = pinlab(&["trace", SEED, "--design", "linux-4.19", "--perfetto", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "the traced condition fails");
    assert!(stdout(&o).contains("is violated by this execution"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let ev = v["traceEvents"].as_array().unwrap();
    let tracks = ev.iter().filter(|e| e["ph"] == "M" && e["name"] == "thread_name").count();
    assert_eq!(tracks, 4, "app, nic0, flusher, finally");
    assert!(ev.iter().any(|e| e["ph"] == "i" && e["name"] == "oracle checksum_error"));
    std::fs::remove_dir_all(&dir).unwrap();
}
