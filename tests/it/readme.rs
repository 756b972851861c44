//! Issue 15: the README's *First steps* run literally, with the binaries this test build
//! produced on the `PATH`, so the README cannot drift from the product.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first ```sh block under `## First steps`.
fn first_steps(readme: &str) -> String {
    let section = readme
        .split("\n## First steps")
        .nth(1)
        .expect("README.md has a `## First steps` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let block = section
        .split("```sh\n")
        .nth(1)
        .expect("the First steps section has a ```sh block");
    block
        .split("\n```")
        .next()
        .expect("the block is closed")
        .to_owned()
}

#[test]
fn the_readme_first_steps_book_an_invoice() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = root.join("target/debug");
    for name in ["koppeling", "snelstart-sandbox"] {
        assert!(
            bin.join(name).exists(),
            "{} is missing: run `cargo build -p koppeling -p snelstart-sandbox` first (`just test` does)",
            bin.join(name).display()
        );
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let script = first_steps(&readme);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("first-steps.sh"), &script).unwrap();
    let path = format!(
        "{}:{}",
        bin.canonicalize().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash")
        .args(["-euo", "pipefail", "first-steps.sh"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("RUST_LOG", "warn")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pgid = child.id();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Whatever happened, nothing of the script outlives the test.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let status = status
        .unwrap_or_else(|| panic!("the First steps did not finish in 90 s\n{stdout}\n{stderr}"));
    assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    let last: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON answer in\n{stdout}"));
    assert_eq!(last["sync"]["status"], "synced", "{stdout}");
    assert_eq!(last["number"], "2026-0001");
    assert!(
        last["sync"]["snelstart_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "the verkoopboeking's id: {last}"
    );
    assert!(stdout.contains("imported 4 lines, refused 0"), "{stdout}");
}
