//! Puts `memory.x` and `device.x` where the linker (run with cortex-m-rt's `link.x`) finds them.
//! With feature `fp-assets`, also embeds `examples/webui` (the `features` firmware's `/ui/`)
//! as `OUT_DIR/assets.rs`, with gzip copies and strong ETags.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for file in ["memory.x", "device.x"] {
        fs::copy(file, out.join(file)).expect("copy linker script");
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rustc-link-search={}", out.display());
    #[cfg(feature = "fp-assets")]
    embed_assets::Embed::new("../webui")
        .write()
        .expect("embed examples/webui");
}
