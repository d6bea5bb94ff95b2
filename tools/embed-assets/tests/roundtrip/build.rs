fn main() {
    embed_assets::Embed::new("../../../../examples/webui")
        .write()
        .expect("embed examples/webui");
    embed_assets::Embed::new("../../../../examples/webui")
        .name("PLAIN")
        .file_name("plain.rs")
        .compress(false)
        .cache_control("max-age=60")
        .write()
        .expect("embed examples/webui without gzip");
}
