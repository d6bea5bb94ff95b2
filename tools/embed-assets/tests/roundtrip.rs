//! Runs the crate in tests/roundtrip (a build.rs that embeds examples/webui, and tests that
//! serve the table), as a user's build would: the generated file must compile in a
//! `no_std` crate with `missing_docs` denied, and serve what is on disk.

#[test]
fn a_build_script_embeds_examples_webui_and_the_table_serves_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/roundtrip");
    let status = std::process::Command::new(env!("CARGO"))
        .args(["test", "--quiet"])
        .current_dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("run cargo");
    assert!(status.success(), "cargo test in {}", dir.display());
}
