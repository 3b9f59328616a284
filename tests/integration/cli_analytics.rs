//! The offline analytics commands through the real binary: `analyze FILE.csv` and `bench-analytics`.

use std::process::Command;

fn insightops(args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_insightops"));
    // The committed Leptos.toml supplies the analytics thresholds; the environment must not override it.
    command.args(["--config", concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")]).args(args);
    for var in ["INSIGHTS_ENV", "INSIGHTOPS_ADDR", "DATABASE_URL", "INSIGHTOPS_CONFIG"] {
        command.env_remove(var);
    }
    let output = command.output().expect("run the insightops binary");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn temp_csv(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("insightops-{}-{name}.csv", std::process::id()));
    std::fs::write(&path, text).expect("write temp csv");
    path
}

#[test]
fn analyze_prints_every_section_for_a_csv_series() {
    // 150 days of a weekly pattern with a deterministic wiggle and one +80 spike on day 120.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("date");
    let values: Vec<f64> = (0..150)
        .map(|i| {
            let weekday = [0.0, 2.0, 4.0, 2.0, 6.0, -8.0, -6.0][i % 7];
            let wiggle = [0.5, -0.5, 1.0, -1.0, 0.0, 0.7, -0.7, 0.2, -0.2, 0.9, -0.9, 0.3, -0.3][i % 13];
            100.0 + 0.05 * i as f64 + weekday + wiggle + if i == 120 { 80.0 } else { 0.0 }
        })
        .collect();
    let mut text = String::from("day,orders\n");
    for (i, v) in values.iter().enumerate() {
        text.push_str(&format!("{},{v}\n", start + chrono::Duration::days(i as i64)));
    }
    let path = temp_csv("series", &text);
    let file = path.to_str().expect("utf-8 path");
    let (ok, stdout, stderr) = insightops(&["analyze", file, "--date-col", "day", "--value-col", "orders", "--horizon", "14"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");

    assert_eq!(report["input"]["rows"], 150);
    let last7: f64 = values[143..].iter().sum();
    let reported = report["deltas"]["last_7_vs_previous_7"]["current"]["value"].as_f64().expect("a number");
    assert!((reported - last7).abs() < 1e-6, "{reported} vs {last7}");
    let flagged: Vec<&str> = report["anomalies"]["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter(|p| matches!(p["severity"].as_str(), Some("warning" | "critical")))
        .filter_map(|p| p["date"].as_str())
        .collect();
    let spike_day = (start + chrono::Duration::days(120)).to_string();
    assert_eq!(flagged, vec![spike_day.as_str()]);
    let forecast = &report["forecast"]["Ok"];
    assert_eq!(forecast["points"].as_array().map(Vec::len), Some(14));
    assert!(forecast["holdout_mape"].as_f64().is_some_and(|m| m < 0.05), "{forecast}");
    assert!(report["trend"]["ols_slope_per_day"].as_f64().is_some());
    assert_eq!(report["trend"]["window_last_date"], report["input"]["last_date"], "the trend names its window");
    let _ = std::fs::remove_file(path);
}

#[test]
fn analyze_lists_every_bad_row_and_exits_non_zero() {
    let path = temp_csv("bad", "date,value\n2026-01-01,5\n2026-01-02,five\nyesterday,6\n");
    let (ok, stdout, stderr) = insightops(&["analyze", path.to_str().expect("utf-8 path")]);
    assert!(!ok);
    assert!(stdout.is_empty(), "no partial JSON: {stdout}");
    assert!(stderr.contains("2 row(s) could not be read"), "{stderr}");
    assert!(stderr.contains(":3: \"five\" in column \"value\" is not a number"), "{stderr}");
    assert!(stderr.contains(":4: \"yesterday\" is not a date"), "{stderr}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn bench_analytics_reports_throughput() {
    let (ok, stdout, stderr) = insightops(&["bench-analytics", "--series", "20", "--days", "200"]);
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON on stdout");
    // 200 days, the first 28 build history: 172 scored points per series.
    assert_eq!(report["scored_points"], 20 * 172);
    assert_eq!(report["forecasts"], 20);
    assert!(report["series_per_second"].as_f64().is_some_and(|r| r > 0.0));
    assert!(stderr.contains("series/s"), "{stderr}");
}
