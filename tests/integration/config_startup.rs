use std::process::Command;

fn write_config(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("insightops-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write temp config");
    path
}

fn run_with(config: &std::path::Path, envs: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_insightops"));
    command.arg("--config").arg(config).arg("migrate");
    for var in ["INSIGHTS_ENV", "INSIGHTOPS_ADDR", "DATABASE_URL", "INSIGHTOPS_CONFIG"] {
        command.env_remove(var);
    }
    command.envs(envs.iter().copied());
    let output = command.output().expect("run the insightops binary");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_bad_environment_value_stops_start_up_naming_key_and_allowed_values() {
    let path = write_config("bad-env", "environment = \"production\"\n");
    let (ok, stderr) = run_with(&path, &[]);
    assert!(!ok, "start-up must fail");
    assert!(stderr.contains("`environment`"), "{stderr}");
    assert!(stderr.contains("dev, staging, prod, offline"), "{stderr}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_bad_pool_size_stops_start_up() {
    let path = write_config("bad-pool", "[database]\npool_size = -3\n");
    let (ok, stderr) = run_with(&path, &[]);
    assert!(!ok);
    assert!(stderr.contains("`database.pool_size` = -3"), "{stderr}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_bad_environment_variable_stops_start_up() {
    let path = write_config("ok", "environment = \"dev\"\n");
    let (ok, stderr) = run_with(&path, &[("INSIGHTOPS_ADDR", "not-an-address")]);
    assert!(!ok);
    assert!(stderr.contains("INSIGHTOPS_ADDR"), "{stderr}");
    let _ = std::fs::remove_file(path);
}
