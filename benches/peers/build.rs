//! Extracts `demo_app::PAGE` from the demo's source (examples/demo), so the peers serve exactly its bytes.

use std::{env, fs, path::PathBuf};

fn main() {
    let demo = fs::read_to_string("../../examples/demo/src/lib.rs")
        .expect("read examples/demo/src/lib.rs");
    let start = demo.find("pub const PAGE: &str = \"").expect("PAGE") + 24;
    let end = start + demo[start..].find("\";\n").expect("end of PAGE");
    let page = demo[start..end].replace("\\\"", "\"");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("page.html"), page).expect("write page");
    println!("cargo:rerun-if-changed=../../examples/demo/src/lib.rs");
}
