//! Embeds the device UI (`examples/webui`) as `ASSETS`, with gzip copies and strong ETags.
fn main() {
    embed_assets::Embed::new("../webui")
        .write()
        .expect("embed examples/webui");
}
