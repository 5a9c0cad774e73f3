//! `pinlab compare --format html`: one self-contained page with the matrix,
//! a per-design summary, and every failing cell's minimal trace.

use crate::report::{render_story, JsonResult};
use pinlab_model::design::Design;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `cells[s][d]`: the result and the cell's short text.
pub fn page(names: &[String], designs: &[Design], cells: &[Vec<(&JsonResult, String)>]) -> String {
    let mut h = String::new();
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pinlab compare</title>\n<style>\n";
    h += "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}\n";
    h += "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\n";
    h += "td.pass{background:#e6f4e6}td.fail{background:#fbe3e3}td.unknown{background:#fff4d6}td.na{background:#eeeeee;color:#666}\n";
    h += "pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}a{color:#a00}\n</style></head><body>\n";
    h += "<h1>pinlab: verdict matrix</h1>\n<p>Each row is a scenario, each column a design. A failing cell names the \
          conditions that do not hold and links to the shortest execution that shows it.</p>\n";
    h += "<table id=\"matrix\"><thead><tr><th>scenario</th>";
    for d in designs {
        h += &format!("<th>{}</th>", esc(&d.name));
    }
    h += "</tr></thead><tbody>\n";
    for (s, row) in cells.iter().enumerate() {
        h += &format!("<tr><td>{}</td>", esc(&names[s]));
        for (d, (r, text)) in row.iter().enumerate() {
            let id = format!("t-{s}-{d}");
            let cell =
                if r.trace.is_some() { format!("<a href=\"#{id}\">{}</a>", esc(text)) } else { esc(text) };
            h += &format!("<td class=\"{}\">{cell}</td>", r.verdict.replace('/', ""));
        }
        h += "</tr>\n";
    }
    h += "</tbody></table>\n<h2>Per design</h2>\n<table id=\"summary\"><thead><tr><th>design</th><th>pass</th><th>fail</th>\
          <th>checksum_error</th><th>lost_write</th><th>deadlock</th><th>starvation</th><th>kernel_bug</th>\
          <th>pin false +/−</th><th>bounce bytes (max per execution)</th></tr></thead><tbody>\n";
    for (d, design) in designs.iter().enumerate() {
        let col: Vec<&JsonResult> = cells.iter().map(|row| row[d].0).collect();
        let count = |o: &str| col.iter().filter(|r| r.oracles_fired.contains(&o)).count();
        let pass = col.iter().filter(|r| r.verdict == "pass").count();
        let fp: u64 = col.iter().map(|r| r.pin_tests.false_positives).sum();
        let fneg: u64 = col.iter().map(|r| r.pin_tests.false_negatives).sum();
        let bounce = col.iter().map(|r| r.bounce_bytes_max).max().unwrap_or(0);
        h += &format!(
            "<tr><td>{}</td><td>{pass}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{fp} / {fneg}</td><td>{bounce}</td></tr>\n",
            esc(&design.name),
            col.iter().filter(|r| r.verdict == "fail").count(),
            count("checksum_error"),
            count("lost_write"),
            count("deadlock"),
            count("starvation"),
            count("kernel_bug")
        );
    }
    h += "</tbody></table>\n<h2>Traces of failing cells</h2>\n";
    for (s, row) in cells.iter().enumerate() {
        for (d, (r, text)) in row.iter().enumerate() {
            if let Some(story) = &r.trace {
                h += &format!(
                    "<section id=\"t-{s}-{d}\"><h3>{} under {}: {}</h3><pre>{}</pre></section>\n",
                    esc(&names[s]),
                    esc(&designs[d].name),
                    esc(text),
                    esc(&render_story(story))
                );
            }
        }
    }
    h += "</body></html>\n";
    h
}
