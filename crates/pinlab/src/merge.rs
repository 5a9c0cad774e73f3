//! `pinlab merge`: the report of one whole run from the JSON of its shards
//! (`pinlab run --shard I/N --json`). Verdicts and witnesses come out exactly
//! as a single run would print them; counts are sums over the shards.

use crate::report::{fold_exit, json_result, load_path, text_report, Outcome, ShardPart};
use crate::{EXIT_BAD_INPUT, EXIT_PASS};
use pinlab_model::World;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The part of a `run --json` result that merging needs.
#[derive(Deserialize)]
struct ShardResult {
    file: String,
    shard: Option<ShardPart>,
}

fn read(path: &Path) -> Result<Vec<ShardResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not the JSON of `pinlab run --shard I/N --json`: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

pub fn merge_files(files: &[PathBuf], json: bool) -> u8 {
    // (scenario file, design) → parts, in first-seen order.
    let mut groups: Vec<((String, String), Vec<ShardPart>)> = Vec::new();
    for f in files {
        let results = match read(f) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("pinlab: error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        for r in results {
            let Some(part) = r.shard else {
                eprintln!(
                    "pinlab: error: {}: a result of {} carries no shard (run with --shard I/N)",
                    f.display(),
                    r.file
                );
                return EXIT_BAD_INPUT;
            };
            let key = (r.file, part.design.name.clone());
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(part),
                None => groups.push((key, vec![part])),
            }
        }
    }
    let mut code = EXIT_PASS;
    let mut out = Vec::new();
    for ((file, _), parts) in groups {
        let prog = match load_path(Path::new(&file), true) {
            Ok(p) => p,
            Err(c) => return c,
        };
        let count = parts[0].count;
        if parts.iter().any(|p| p.count != count || p.design != parts[0].design) {
            eprintln!("pinlab: error: {file}: the shards disagree on the shard count or the design");
            return EXIT_BAD_INPUT;
        }
        let kinds: Vec<_> = prog.conds.iter().map(|c| c.kind).collect();
        let design = parts[0].design.clone();
        let indexed: Vec<_> = parts.into_iter().map(|p| (p.index, p.report)).collect();
        let report = match pinlab_explore::merge(&indexed, count, &kinds) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("pinlab: error: {file}: {}", e.0);
                return EXIT_BAD_INPUT;
            }
        };
        if !report.complete {
            eprintln!("pinlab: warning: {file} under {}: shards missing or stopped early", design.name);
        }
        let o = Outcome {
            report,
            init: World::new(&prog).expect("the compiler checked the machine can be built"),
        };
        code = fold_exit(code, o.report.verdict());
        if json {
            out.push(json_result(&file, &prog, &design, &o));
        } else {
            println!("{}", text_report(&file, &prog, &design, &o, false));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out).expect("serialisable"));
    }
    code
}
